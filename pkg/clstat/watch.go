package clstat

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"
)

// view is one look at the cluster: the text to show and the same without
// what changes by itself (running times), which says whether anything
// happened.
type view struct {
	text, key string
}

// watch shows look's view every interval until ctx ends, as crm_mon -i
// and drbdmon do: on a terminal it redraws in place (and so keeps the
// running times current); elsewhere it appends a block, headed by the
// time unless the view is a JSON line, only when something other than a
// running time changed.
func watch(ctx context.Context, w io.Writer, tty, jsonLines bool, interval time.Duration, now func() time.Time, look func() view) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := ""
	for first := true; ; first = false {
		v := look()
		switch {
		case tty:
			fmt.Fprintf(w, "\x1b[H\x1b[2J%s", v.text)
		case first || v.key != last:
			if jsonLines {
				fmt.Fprint(w, v.text)
				break
			}
			if !first {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s\n%s", now().Format(time.RFC3339), v.text)
		}
		last = v.key
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// render writes a view with print, and again with the running times left
// out for its key.
func render(print func(w io.Writer, times bool)) view {
	var text, key bytes.Buffer
	print(&text, true)
	print(&key, false)
	return view{text: text.String(), key: key.String()}
}
