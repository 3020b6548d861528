package cockroachlicensereceiver

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// licensePrefix starts every encoded CockroachDB license (licenseccl.LicensePrefix).
const licensePrefix = "crl-0-"

// license is what the receiver reads of CockroachDB's licenseccl.License protobuf: field 2
// valid_until_unix_sec (int64), 3 type (enum), 4 organization_name (string), 5 environment
// (enum), 6 license_id and 7 organization_id (16-byte UUIDs). Other fields are skipped.
type license struct {
	validUntil       int64
	typ              int32
	organizationName string
	environment      int32
	licenseID        string
	organizationID   string
}

// Decoding errors. They never quote the input: the license is a secret of sorts and must not
// reach logs.
var (
	errNoPrefix = errors.New("not a CockroachDB license (no " + licensePrefix + " prefix)")
	errBase64   = errors.New("the license is not valid base64")
)

// decodeLicense reads a license setting's value; "" (no license installed) is nil.
func decodeLicense(value string) (*license, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	payload, ok := strings.CutPrefix(value, licensePrefix)
	if !ok {
		return nil, errNoPrefix
	}
	// CockroachDB writes unpadded standard base64; a padded copy is accepted too.
	data, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return nil, errBase64
	}
	l := &license{}
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, fmt.Errorf("the license protobuf is malformed: %w", protowire.ParseError(n))
		}
		data = data[n:]
		if n, err = l.field(num, typ, data); err != nil {
			return nil, err
		}
		data = data[n:]
	}
	return l, nil
}

// field reads one field's value from data and returns its length. A later occurrence of a field
// wins, as protobuf decoding does.
func (l *license) field(num protowire.Number, typ protowire.Type, data []byte) (int, error) {
	switch num {
	case 2, 3, 5:
		if typ != protowire.VarintType {
			return 0, fmt.Errorf("license field %d: wire type %d, want varint", num, typ)
		}
		v, n := protowire.ConsumeVarint(data)
		if n < 0 {
			return 0, fmt.Errorf("license field %d: %w", num, protowire.ParseError(n))
		}
		if num == 2 {
			l.validUntil = int64(v)
			return n, nil
		}
		// enums are int32; a negative one is sign-extended to 64 bits
		if e := int64(v); e < math.MinInt32 || e > math.MaxInt32 {
			return 0, fmt.Errorf("license field %d: %d does not fit an enum", num, e)
		} else if num == 3 {
			l.typ = int32(e)
		} else {
			l.environment = int32(e)
		}
		return n, nil
	case 4, 6, 7:
		if typ != protowire.BytesType {
			return 0, fmt.Errorf("license field %d: wire type %d, want bytes", num, typ)
		}
		v, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return 0, fmt.Errorf("license field %d: %w", num, protowire.ParseError(n))
		}
		var err error
		switch num {
		case 4:
			if !utf8.Valid(v) {
				return 0, errors.New("license field 4 (organization name) is not UTF-8")
			}
			l.organizationName = string(v)
		case 6:
			l.licenseID, err = formatUUID(num, v)
		case 7:
			l.organizationID, err = formatUUID(num, v)
		}
		return n, err
	default:
		n := protowire.ConsumeFieldValue(num, typ, data)
		if n < 0 {
			return 0, fmt.Errorf("license field %d: %w", num, protowire.ParseError(n))
		}
		return n, nil
	}
}

// formatUUID writes a 16-byte UUID as 8-4-4-4-12 hex digits; empty stays empty.
func formatUUID(num protowire.Number, b []byte) (string, error) {
	switch len(b) {
	case 0:
		return "", nil
	case 16:
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	default:
		return "", fmt.Errorf("license field %d: a UUID has 16 bytes, got %d", num, len(b))
	}
}

// typeName is the predecessor's label for a license type.
func typeName(t int32) string {
	switch t {
	case 0:
		return "NonCommercial"
	case 1:
		return "Enterprise"
	case 2:
		return "Evaluation"
	case 3:
		return "Free"
	case 4:
		return "Trial"
	default:
		return "Unknown"
	}
}

// typeCode is the predecessor's value of cockroach_license_type: NonCommercial moves from 0 (its
// enum value) to 5, so that 0 means a type this receiver does not know.
func typeCode(t int32) int64 {
	switch t {
	case 0:
		return 5
	case 1, 2, 3, 4:
		return int64(t)
	default:
		return 0
	}
}

func environmentName(e int32) string {
	switch e {
	case 0:
		return ""
	case 1:
		return "production"
	case 2:
		return "pre-production"
	case 3:
		return "development"
	default:
		return "other"
	}
}
