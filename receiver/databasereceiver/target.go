package databasereceiver

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
)

// target is one database to check. It holds credentials: never log it or put it in an error.
type target struct {
	namespace, database, engine string

	host     string
	port     int
	username string
	password string
	dbName   string // PostgreSQL database, MySQL schema, MongoDB auth source, Redis DB number

	tls       bool
	tlsConfig *tls.Config // nil with tls: the receiver's discovered-database TLS settings

	service string // the component Service (discovered databases), for preflight
	err     error  // the Secret cannot be used (bad port): reported as unknown without dialling
}

func (t target) key() string { return t.namespace + "/" + t.database + "/" + t.engine }

func (t target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// preflightService is the Service and namespace behind the host, "" for IP addresses and
// localhost (nothing to look up). A name `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]` names a Service.
func (t target) preflightService() (service, namespace string) {
	if t.host == "localhost" || net.ParseIP(t.host) != nil {
		return "", ""
	}
	labels := strings.Split(t.host, ".")
	switch {
	case len(labels) == 1:
		return labels[0], t.namespace
	case len(labels) == 2 || labels[2] == "svc":
		return labels[0], labels[1]
	default: // an external name
		return "", ""
	}
}
