package adosim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// PAT is the personal access token org calls must carry: as the Basic password (any user) or
	// as a Bearer token. Empty accepts any credential (and none), for demos only.
	PAT string
	// BearerTokens are further tokens accepted as Bearer credentials for org calls.
	BearerTokens []string
	// MessagePollTimeout is how long GET messages holds a poll with nothing to deliver before it
	// answers 202 with no body. Default 30s (ADO holds about 50s).
	MessagePollTimeout time.Duration
	// Faults, if set, is asked before every authenticated call whether to fail or delay it.
	Faults FaultFunc
	Logger *slog.Logger
}

// DefaultMessagePollTimeout is the default long-poll hold of GET messages.
const DefaultMessagePollTimeout = 30 * time.Second

// Server serves an Org over HTTP with ADO's wire contract. It is an http.Handler.
type Server struct {
	org         *Org
	pat         string
	bearer      map[string]bool
	pollTimeout time.Duration
	faults      atomic.Pointer[FaultFunc]
	log         *slog.Logger
	mux         *http.ServeMux

	mu    sync.Mutex
	calls map[string]int64
}

// NewServer returns a Server for org.
func NewServer(org *Org, opts ServerOptions) *Server {
	if opts.MessagePollTimeout <= 0 {
		opts.MessagePollTimeout = DefaultMessagePollTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		org: org, pat: opts.PAT, bearer: map[string]bool{}, pollTimeout: opts.MessagePollTimeout,
		log: opts.Logger.With("component", "adosim-server"), mux: http.NewServeMux(), calls: map[string]int64{},
	}
	for _, t := range opts.BearerTokens {
		s.bearer[t] = true
	}
	if opts.Faults != nil {
		s.SetFaults(opts.Faults)
	}
	s.routes()
	return s
}

// Org returns the organization the server serves.
func (s *Server) Org() *Org { return s.org }

// SetFaults replaces the fault function (nil removes it); safe while serving.
func (s *Server) SetFaults(f FaultFunc) {
	if f == nil {
		s.faults.Store(nil)
		return
	}
	s.faults.Store(&f)
}

// Calls returns how many calls each route received, keyed by its pattern
// ("GET /{org}/_apis/distributedtask/pools"); unmatched requests count under "unmatched".
func (s *Server) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

func (s *Server) count(key string) {
	s.mu.Lock()
	s.calls[key]++
	s.mu.Unlock()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

type authKind int

const (
	authOrg  authKind = iota // the PAT
	authPlan                 // the plan's job token
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers a route: it counts the call, checks the org name and the credential, applies
// faults, sweeps expired sessions and renders a returned error as ADO does.
func (s *Server) handle(pattern string, kind authKind, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.count(r.Pattern)
		if !strings.EqualFold(r.PathValue("org"), s.org.Name()) {
			writeError(w, errf(http.StatusNotFound, "VssServiceResponseException", "The organization %s could not be found.", r.PathValue("org")))
			return
		}
		if !s.authorized(r, kind) {
			s.unauthorized(w)
			return
		}
		if s.applyFault(w, r) {
			return
		}
		s.org.Sweep()
		if err := h(w, r); err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				ae = errf(http.StatusInternalServerError, "VssServiceException", "%v", err)
			}
			if ae.Status >= 500 {
				s.log.Warn("request failed", "route", r.Pattern, "err", err)
			}
			writeError(w, ae)
		}
	})
}

func (s *Server) routes() {
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count("unmatched")
		writeError(w, errf(http.StatusNotFound, "VssResourceNotFoundException", "The requested resource %s %s does not exist.", r.Method, r.URL.Path))
	})
	s.poolRoutes()
	s.agentProtocolRoutes()
	s.envRoutes()
	s.planRoutes()
}

// credential extracts the secret from Basic (password) or Bearer.
func credential(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return "", false
	}
	switch strings.ToLower(scheme) {
	case "basic":
		_, pass, ok := r.BasicAuth()
		return pass, ok
	case "bearer":
		return strings.TrimSpace(rest), true
	}
	return "", false
}

func (s *Server) authorized(r *http.Request, kind authKind) bool {
	secret, ok := credential(r)
	if kind == authPlan {
		if !ok {
			return false
		}
		token, found := s.org.planToken(r.PathValue("planId"))
		return found && secret == token
	}
	if s.pat == "" {
		return true
	}
	return ok && (secret == s.pat || s.bearer[secret])
}

// unauthorized answers as ADO does to a bad credential on a REST call: 401 with TF400813.
func (s *Server) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://login.microsoftonline.com/common, Basic realm="adosim"`)
	w.Header().Set("X-TFS-FedAuthRealm", "adosim")
	writeError(w, errf(http.StatusUnauthorized, "UnauthorizedRequestException", "TF400813: The user '' is not authorized to access this resource."))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, wireError{
		ID: "1", Message: e.Message, TypeName: typeName(e.TypeKey), TypeKey: e.TypeKey, ErrorCode: 0, EventID: 3000,
	})
}

func writeCollection[T any](w http.ResponseWriter, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, wireCollection[T]{Count: len(items), Value: items})
}

// maxRequestBody bounds what the simulator reads of a request body.
const maxRequestBody = 4 << 20

// readBody reads the whole request body. A body over maxRequestBody is refused rather than cut:
// cut, it would decode as garbage or append half a log.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, errBadRequest("read body: %v", err)
	}
	if len(data) > maxRequestBody {
		return nil, errf(http.StatusRequestEntityTooLarge, "VssRequestContentException", "The request body is larger than %d MiB.", maxRequestBody>>20)
	}
	return data, nil
}

// decodeBody reads a JSON body into v; a missing, null or malformed body is ADO's 400.
func decodeBody(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	if trimmed := strings.TrimSpace(string(data)); trimmed == "" || trimmed == "null" {
		return errf(http.StatusBadRequest, "ArgumentNullException", "Value cannot be null.\r\nParameter name: body")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errf(http.StatusBadRequest, "VssRequestContentException", "The request body could not be parsed: %v", err)
	}
	return nil
}

// orgBase is the org URL the request came in on, for _links.
func orgBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/%s", scheme, r.Host, r.PathValue("org"))
}

// Running is a Server listening on a local address.
type Running struct {
	// URL is the organization URL, http://127.0.0.1:PORT/{org}: what clients and agents use.
	URL string
	// Addr is the listening address (host:port).
	Addr   string
	server *http.Server
	done   chan struct{}
}

// Start listens on addr ("" means 127.0.0.1:0, a free loopback port) and serves until Close.
func (s *Server) Start(addr string) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("adosim: listen %s: %w", addr, err)
	}
	// Bounded like adofleet's own listener; a write gets the long poll's hold plus room for
	// injected delays.
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: s.pollTimeout + 2*time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	rs := &Running{
		Addr:   ln.Addr().String(),
		URL:    "http://" + ln.Addr().String() + "/" + s.org.Name(),
		server: srv,
		done:   make(chan struct{}),
	}
	s.org.setCollectionURL(rs.URL) // the PlanUrl checks send
	go func() {
		defer close(rs.done)
		if err := rs.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve failed", "err", err)
		}
	}()
	return rs, nil
}

// Close stops the server, cutting long polls short.
func (r *Running) Close() error {
	err := r.server.Close()
	<-r.done
	return err
}
