package thrift

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Handler answers one call: the method name (without the service prefix)
// and its arguments; it returns the result field (id 0) or an error, sent
// as a TApplicationException.
type Handler func(method string, args *Message) (Field, error)

// Server serves one multiplexed service name over the binary protocol.
type Server struct {
	Service string
	Handler Handler
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 1 minute), so a stuck client cannot hold a goroutine forever.
	IdleTimeout time.Duration

	wg sync.WaitGroup
}

// Serve accepts connections on lis until ctx ends or lis is closed.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = lis.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		conn, err := lis.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

// exception types of TApplicationException.
const (
	exUnknownMethod = 1
	exInternal      = 6
	exProtocol      = 7
)

func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = time.Minute
	}
	r := bufio.NewReader(conn)
	for {
		_ = conn.SetDeadline(time.Now().Add(idle))
		m, err := ReadMessage(r)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = WriteException(conn, "", 0, err.Error(), exProtocol)
			}
			return
		}
		if m.Type != Call && m.Type != Oneway {
			_ = WriteException(conn, m.Name, m.SeqID, "expected a call", exProtocol)
			return
		}
		method, ok := strings.CutPrefix(m.Name, s.Service+":")
		if !ok {
			_ = WriteException(conn, m.Name, m.SeqID, "unknown service in "+m.Name, exUnknownMethod)
			continue
		}
		res, err := s.Handler(method, m)
		if m.Type == Oneway {
			continue
		}
		if err != nil {
			typ := int32(exInternal)
			if errors.Is(err, ErrUnknownMethod) {
				typ = exUnknownMethod
			}
			_ = WriteException(conn, m.Name, m.SeqID, err.Error(), typ)
			continue
		}
		res.ID = 0
		if err := WriteMessage(conn, &Message{Name: m.Name, Type: Reply, SeqID: m.SeqID, Fields: []Field{res}}); err != nil {
			return
		}
	}
}

// ErrUnknownMethod is what a Handler returns for a method it does not serve.
var ErrUnknownMethod = errors.New("unknown method")
