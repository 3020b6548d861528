package cockroachlicensereceiver

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/labring/otelcol-sealos/test/cockroachtest"
)

var (
	licenseID = []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	orgID     = []byte{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78}
)

// encoded is "crl-0-" + base64 of raw protobuf bytes: for inputs the test encoder cannot make.
func encoded(raw []byte) string { return "crl-0-" + base64.RawStdEncoding.EncodeToString(raw) }

func TestDecodeLicense(t *testing.T) {
	full := cockroachtest.License{
		ValidUntil: time.Unix(1_900_000_000, 0), Type: cockroachtest.TypeEnterprise, OrganizationName: "Sealos Cloud",
		Environment: cockroachtest.EnvProduction, LicenseID: licenseID, OrganizationID: orgID,
	}
	repeated := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 100)
	repeated = protowire.AppendVarint(protowire.AppendTag(repeated, 2, protowire.VarintType), 200)
	tests := map[string]struct {
		value string
		want  *license
		err   string
	}{
		"no license": {value: "", want: nil},
		"full": {value: full.Encode(), want: &license{
			validUntil: 1_900_000_000, typ: 1, organizationName: "Sealos Cloud", environment: 1,
			licenseID: "12345678-9abc-def0-0123-456789abcdef", organizationID: "fedcba98-7654-3210-0f1e-2d3c4b5a6978",
		}},
		"type absent is NonCommercial":   {value: cockroachtest.License{ValidUntil: time.Unix(10, 0)}.Encode(), want: &license{validUntil: 10}},
		"padded base64 and white space":  {value: " " + full.Encode() + strings.Repeat("=", (4-len(full.Encode()[6:])%4)%4) + "\n", want: &license{validUntil: 1_900_000_000, typ: 1, organizationName: "Sealos Cloud", environment: 1, licenseID: "12345678-9abc-def0-0123-456789abcdef", organizationID: "fedcba98-7654-3210-0f1e-2d3c4b5a6978"}},
		"a later field wins":             {value: encoded(repeated), want: &license{validUntil: 200}},
		"negative enum":                  {value: encoded(protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), uint64(0xffffffffffffffff))), want: &license{typ: -1}},
		"no prefix":                      {value: "eyJsaWNlbnNlIjoidG9wLXNlY3JldCJ9", err: "not a CockroachDB license"},
		"not base64":                     {value: "crl-0-%%%%", err: "not valid base64"},
		"truncated tag":                  {value: encoded([]byte{0x80}), err: "malformed"},
		"valid_until as bytes":           {value: encoded(protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte("x"))), err: "license field 2: wire type 2, want varint"},
		"truncated varint":               {value: encoded([]byte{0x10, 0xff}), err: "license field 2"},
		"organization name as varint":    {value: encoded(protowire.AppendVarint(protowire.AppendTag(nil, 4, protowire.VarintType), 1)), err: "license field 4: wire type 0, want bytes"},
		"enum beyond int32":              {value: encoded(protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.VarintType), 1<<40)), err: "does not fit an enum"},
		"license id of 15 bytes":         {value: encoded(protowire.AppendBytes(protowire.AppendTag(nil, 6, protowire.BytesType), licenseID[:15])), err: "a UUID has 16 bytes, got 15"},
		"organization name not UTF-8":    {value: encoded(protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), []byte{0xff, 0xfe})), err: "not UTF-8"},
		"unknown field cut short":        {value: encoded(append(protowire.AppendTag(nil, 9, protowire.BytesType), 0x05, 'a')), err: "license field 9"},
		"unknown group is skipped whole": {value: encoded(protowire.AppendTag(protowire.AppendTag(nil, 9, protowire.StartGroupType), 9, protowire.EndGroupType)), want: &license{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := decodeLicense(tt.value)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				payload := strings.TrimPrefix(strings.TrimSpace(tt.value), "crl-0-")
				assert.NotContains(t, err.Error(), payload, "the license reached the error")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNames(t *testing.T) {
	for typ, want := range map[int32]struct {
		name string
		code int64
	}{0: {"NonCommercial", 5}, 1: {"Enterprise", 1}, 2: {"Evaluation", 2}, 3: {"Free", 3}, 4: {"Trial", 4}, 7: {"Unknown", 0}, -1: {"Unknown", 0}} {
		assert.Equal(t, want.name, typeName(typ))
		assert.Equal(t, want.code, typeCode(typ))
	}
	for env, want := range map[int32]string{0: "", 1: "production", 2: "pre-production", 3: "development", 4: "other"} {
		assert.Equal(t, want, environmentName(env))
	}
}

// FuzzDecodeLicense: any setting value decodes or fails without panicking, and a failure never
// quotes the value.
func FuzzDecodeLicense(f *testing.F) {
	f.Add("")
	f.Add(cockroachtest.License{ValidUntil: time.Unix(1_900_000_000, 0), Type: 2, OrganizationName: "o", Environment: 3, LicenseID: licenseID, OrganizationID: orgID}.Encode())
	f.Add("crl-0-")
	f.Add("crl-0-CAE")
	f.Add("crl-0-" + base64.RawStdEncoding.EncodeToString([]byte{0x4b, 0x4c}))
	f.Fuzz(func(t *testing.T, value string) {
		l, err := decodeLicense(value)
		if err != nil {
			if payload := strings.TrimPrefix(strings.TrimSpace(value), licensePrefix); len(payload) >= 8 && strings.Contains(err.Error(), payload) {
				t.Fatalf("the error quotes the license: %v", err)
			}
			return
		}
		if l != nil && !utf8.ValidString(l.organizationName) {
			t.Fatalf("organization name is not UTF-8: %q", l.organizationName)
		}
	})
}

// FuzzLicenseRoundTrip: every license CockroachDB could write decodes to what was written.
func FuzzLicenseRoundTrip(f *testing.F) {
	f.Add(int64(1_900_000_000), int32(1), "Sealos", int32(1), licenseID, orgID)
	f.Add(int64(-5), int32(-3), "", int32(9), []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, validUntil int64, typ int32, org string, env int32, id, oid []byte) {
		if !utf8.ValidString(org) {
			return // not a protobuf string
		}
		id, oid = uuidOrNil(id), uuidOrNil(oid)
		in := cockroachtest.License{ValidUntil: time.Unix(validUntil, 0), Type: typ, OrganizationName: org, Environment: env, LicenseID: id, OrganizationID: oid}
		got, err := decodeLicense(in.Encode())
		if err != nil {
			t.Fatalf("decoding %+v: %v", in, err)
		}
		want := &license{validUntil: validUntil, typ: typ, organizationName: org, environment: env}
		want.licenseID, _ = formatUUID(6, id)
		want.organizationID, _ = formatUUID(7, oid)
		if *got != *want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

func uuidOrNil(b []byte) []byte {
	if len(b) < 16 {
		return nil
	}
	return b[:16]
}
