package drbd

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
)

// The requests drbdsetup-84 sends for primary [--force] and secondary
// (drbd_genl.h: DRBD_ADM_PRIMARY 14, DRBD_ADM_SECONDARY 15, the
// drbd_genlmsghdr minor first, set_role_parms nested as attribute 6
// (NLA_F_NESTED, which the kernel masks off) with assume_uptodate,
// mandatory, as 1).
func TestRoleRequest(t *testing.T) {
	for _, c := range []struct {
		primary, force bool
		cmd            uint8
		attrs          []byte
	}{
		{true, true, 14, []byte{12, 0, 6, 0x80, 5, 0, 1, 0x40, 1, 0, 0, 0}},
		{true, false, 14, []byte{4, 0, 6, 0x80}},
		{false, false, 15, []byte{4, 0, 6, 0x80}},
	} {
		m, err := roleRequest(7, c.primary, c.force)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Command != c.cmd || m.Header.Version != 1 {
			t.Errorf("primary=%v force=%v: header %+v", c.primary, c.force, m.Header)
		}
		hdr := make([]byte, 8)
		binary.NativeEndian.PutUint32(hdr, 7)
		if want := append(hdr, c.attrs...); !bytes.Equal(m.Data, want) {
			t.Errorf("primary=%v force=%v: data % x, want % x", c.primary, c.force, m.Data, want)
		}
	}
}

// Replies: ret_code after the minor; SS_SUCCESS, SS_NOTHING_TO_DO and
// NO_ERROR are success, anything else an error carrying the kernel's
// info_text (DRBD_NLA_CFG_REPLY).
func TestReplyError(t *testing.T) {
	reply := func(rc int32, text string) []byte {
		b := make([]byte, 8)
		binary.NativeEndian.PutUint32(b[4:], uint32(rc))
		if text == "" {
			return b
		}
		ae := netlink.NewAttributeEncoder()
		ae.Nested(nlaCfgReply|fMandatory, func(nae *netlink.AttributeEncoder) error {
			nae.String(tInfoText|fMandatory, text)
			return nil
		})
		a, _ := ae.Encode()
		return append(b, a...)
	}
	for _, rc := range []int32{1, 2, 101} {
		if err := replyError(reply(rc, "")); err != nil {
			t.Errorf("ret_code %d: %v", rc, err)
		}
	}
	err := replyError(reply(-2, "Need access to UpToDate data"))
	if err == nil || !strings.Contains(err.Error(), "Need access to UpToDate data") || !strings.Contains(err.Error(), "-2") {
		t.Errorf("SS_NO_UP_TO_DATE_DISK: %v", err)
	}
	if replyError([]byte{1, 2}) == nil {
		t.Error("a short reply taken for success")
	}
}
