package wire

import (
	"fmt"
	"sort"
	"strings"
)

// Request is "VERB key=val key=val ..." (L7595). Keys are matched without
// regard to case (the Reference writes HELLO=yes, Monitor=, off=true);
// words without '=' are kept in order as Words (lemsctl's "CMD httpd RESET").
type Request struct {
	Verb  string
	Args  map[string]string // keys lower-cased
	Words []string
}

// ParseRequest splits a message into its verb and arguments.
func ParseRequest(s string) (Request, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Request{}, fmt.Errorf("%w: empty request", ErrFormat)
	}
	r := Request{Verb: strings.ToUpper(f[0]), Args: map[string]string{}}
	for _, w := range f[1:] {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			r.Args[strings.ToLower(k)] = v
		} else {
			r.Words = append(r.Words, w)
		}
	}
	return r, nil
}

// Arg returns a named argument.
func (r Request) Arg(k string) (string, bool) {
	v, ok := r.Args[strings.ToLower(k)]
	return v, ok
}

// String renders the request with arguments sorted, so it prints the same
// every time.
func (r Request) String() string {
	parts := []string{r.Verb}
	parts = append(parts, r.Words...)
	keys := make([]string, 0, len(r.Args))
	for k := range r.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+r.Args[k])
	}
	return strings.Join(parts, " ")
}

// Services, as named in frame envelopes (Svc).
const (
	SvcDaemon = "cldaemon"
	SvcLocks  = "cllockd"
	SvcNet    = "clnetd"
)

// SvcLems names an application's Lems.
func SvcLems(app string) string { return "lems/" + app }
