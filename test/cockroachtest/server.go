package cockroachtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// LicenseQuery is the one statement the server answers.
const LicenseQuery = "SHOW CLUSTER SETTING enterprise.license"

// Server speaks the PostgreSQL wire protocol the way a CockroachDB node does for one statement:
// startup (SSL refused, cleartext password), then simple-protocol queries.
type Server struct {
	Addr     string // 127.0.0.1:port
	User     string
	Password string

	l       net.Listener
	mu      sync.Mutex
	license string
	errCode string // non-empty: the query fails with this SQLSTATE
	errMsg  string
	queries atomic.Int64
	wg      sync.WaitGroup
	conns   sync.Map // net.Conn -> struct{}
}

// Start serves on addr ("" for a free loopback port) for user/password.
func Start(addr, user, password string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: l.Addr().String(), User: user, Password: password, l: l}
	s.wg.Go(s.accept)
	return s, nil
}

// StartT starts a server for the test and stops it at its end.
func StartT(t testing.TB, user, password string) *Server {
	t.Helper()
	s, err := Start("", user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// DSN is a connection string for the server's user (TLS off: the server refuses it).
func (s *Server) DSN() string {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(s.User, s.Password), Host: s.Addr, Path: "/defaultdb", RawQuery: "sslmode=disable"}
	return u.String()
}

// SetLicense makes the setting's value v ("" means no license) and clears a set error.
func (s *Server) SetLicense(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.license, s.errCode, s.errMsg = v, "", ""
}

// SetError makes the statement fail with SQLSTATE code and message.
func (s *Server) SetError(code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errCode, s.errMsg = code, msg
}

// Queries is how many times the statement was asked.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Stop closes the listener and every connection, and waits for them.
func (s *Server) Stop() {
	_ = s.l.Close()
	s.conns.Range(func(c, _ any) bool {
		_ = c.(net.Conn).Close()
		return true
	})
	s.wg.Wait()
}

func (s *Server) accept() {
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return
		}
		s.conns.Store(conn, struct{}{})
		s.wg.Go(func() {
			defer s.conns.Delete(conn)
			defer func() { _ = conn.Close() }()
			_ = s.serve(conn)
		})
	}
}

func (s *Server) serve(conn net.Conn) error {
	b := pgproto3.NewBackend(conn, conn)
	if err := s.startup(conn, b); err != nil {
		return err
	}
	for {
		msg, err := b.Receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			s.answer(b, m.String)
		case *pgproto3.Sync:
			b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.Terminate:
			return nil
		default: // the extended protocol: not what a license check needs
			b.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "0A000", Message: fmt.Sprintf("unsupported message %T", m)})
		}
		if err := b.Flush(); err != nil {
			return err
		}
	}
}

// startup refuses TLS, asks for a cleartext password and checks user and password.
func (s *Server) startup(conn net.Conn, b *pgproto3.Backend) error {
	for {
		msg, err := b.ReceiveStartupMessage()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := conn.Write([]byte{'N'}); err != nil {
				return err
			}
			continue
		case *pgproto3.StartupMessage:
			return s.authenticate(b, m)
		default:
			return fmt.Errorf("unexpected startup message %T", m)
		}
	}
}

func (s *Server) authenticate(b *pgproto3.Backend, m *pgproto3.StartupMessage) error {
	b.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := b.Flush(); err != nil {
		return err
	}
	if err := b.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
		return err
	}
	msg, err := b.Receive()
	if err != nil {
		return err
	}
	pw, ok := msg.(*pgproto3.PasswordMessage)
	if !ok || m.Parameters["user"] != s.User || pw.Password != s.Password {
		b.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed for user " + m.Parameters["user"]})
		_ = b.Flush()
		return errors.New("authentication failed")
	}
	b.Send(&pgproto3.AuthenticationOk{})
	for k, v := range map[string]string{"server_version": "13.0.0", "client_encoding": "UTF8", "standard_conforming_strings": "on", "DateStyle": "ISO", "integer_datetimes": "on"} {
		b.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	b.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return b.Flush()
}

// answer replies to one simple-protocol query.
func (s *Server) answer(b *pgproto3.Backend, query string) {
	defer b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if !strings.EqualFold(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(query), ";")), LicenseQuery) {
		b.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42601", Message: "this test server answers only " + LicenseQuery})
		return
	}
	s.queries.Add(1)
	s.mu.Lock()
	license, code, msg := s.license, s.errCode, s.errMsg
	s.mu.Unlock()
	if code != "" {
		b.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: code, Message: msg})
		return
	}
	b.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("enterprise.license"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}})
	b.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(license)}})
	b.Send(&pgproto3.CommandComplete{CommandTag: []byte("SHOW CLUSTER SETTING 1")})
}
