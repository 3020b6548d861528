// Package cockroachtest stands in for CockroachDB where none can run: the PostgreSQL wire protocol
// (pgproto3) on loopback, answering `SHOW CLUSTER SETTING enterprise.license` with a license the
// test encodes the way CockroachDB does.
package cockroachtest

import (
	"encoding/base64"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// License types and environments, CockroachDB's enum values.
const (
	TypeNonCommercial = 0
	TypeEnterprise    = 1
	TypeEvaluation    = 2
	TypeFree          = 3
	TypeTrial         = 4

	EnvUnspecified   = 0
	EnvProduction    = 1
	EnvPreProduction = 2
	EnvDevelopment   = 3
)

// License is the part of CockroachDB's licenseccl.License the receiver reads.
type License struct {
	ValidUntil       time.Time
	Type             int32 // omitted from the encoding when 0, as protobuf does
	OrganizationName string
	Environment      int32
	LicenseID        []byte // 16 bytes (a UUID)
	OrganizationID   []byte
}

// Encode returns the setting's value: "crl-0-" and the protobuf encoding of l in unpadded standard
// base64, as CockroachDB's licenseccl.License.Encode writes it. Field 1 (cluster IDs of old
// licenses) is written too, so that a reader must skip a field it does not know.
func (l License) Encode() string {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("old-cluster-id-1"))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(l.ValidUntil.Unix()))
	if l.Type != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(l.Type))
	}
	if l.OrganizationName != "" {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, l.OrganizationName)
	}
	if l.Environment != 0 {
		b = protowire.AppendTag(b, 5, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(l.Environment))
	}
	if l.LicenseID != nil {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendBytes(b, l.LicenseID)
	}
	if l.OrganizationID != nil {
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, l.OrganizationID)
	}
	return "crl-0-" + base64.RawStdEncoding.EncodeToString(b)
}
