package clbuildapp

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
)

// --template prints the annotated template, on any host, and exits 0.
func TestTemplateFlag(t *testing.T) {
	var out bytes.Buffer
	if code := clitool.Run(context.Background(), NewApp(&out, io.Discard), []string{"clbuildapp", "--template"}); code != 0 || !bytes.Equal(out.Bytes(), config.AppTemplate) {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}
