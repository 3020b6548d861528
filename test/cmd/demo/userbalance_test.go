package main

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// Without PostgreSQL the demo runs config/demo.yaml minus the userbalance receiver and its pipeline.
func TestWithoutReceiverDropsDefinitionAndPipeline(t *testing.T) {
	path, err := withoutReceiver("../../../config/demo.yaml", "userbalance", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receivers map[string]any `json:"receivers"`
		Service   struct {
			Pipelines map[string]struct {
				Receivers []string `json:"receivers"`
			} `json:"pipelines"`
		} `json:"service"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Receivers["userbalance"]; ok {
		t.Error("userbalance receiver still defined")
	}
	if _, ok := doc.Receivers["node"]; !ok {
		t.Error("node receiver removed")
	}
	if _, ok := doc.Service.Pipelines["metrics/userbalance"]; ok {
		t.Error("the userbalance pipeline is left without receivers")
	}
	for name, p := range doc.Service.Pipelines {
		for _, r := range p.Receivers {
			if r == "userbalance" {
				t.Errorf("pipeline %s still lists userbalance", name)
			}
		}
	}
	if len(doc.Service.Pipelines["metrics"].Receivers) == 0 {
		t.Error("the main pipeline lost its receivers")
	}
}
