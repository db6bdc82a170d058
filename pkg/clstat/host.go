package clstat

import (
	"os"
	"strings"
)

func hostname() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(h, ".")
	return h
}
