// Package leaderelectionextension elects one leader per Kubernetes Lease among collector replicas
// and tells registered receivers (through SetCallBackFuncs, the k8s_leader_elector contract) when
// this replica starts and stops leading.
//
//go:generate go tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml
package leaderelectionextension
