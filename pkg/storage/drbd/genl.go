package drbd

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// DRBD 8.4's generic netlink interface (include/linux/drbd_genl.h, api:1),
// what drbdsetup-84 speaks: a takeover promotes each volume by one
// request from the calling process instead of one drbdsetup process per
// volume (issue 20: a process costs tens of emulated milliseconds).
const (
	genlFamily   = "drbd"
	genlVersion  = 1
	admPrimary   = 14 // DRBD_ADM_PRIMARY
	admSecondary = 15 // DRBD_ADM_SECONDARY
	// nlaSetRoleParms is DRBD_NLA_SET_ROLE_PARMS, whose one field,
	// T_assume_uptodate (1), is primary's --force.
	nlaSetRoleParms = 6
	tAssumeUptodate = 1
	nlaCfgReply     = 1 // DRBD_NLA_CFG_REPLY: T_info_text (1), the kernel's message
	tInfoText       = 1
	fMandatory      = 1 << 14 // DRBD_GENLA_F_MANDATORY
	// Replies' ret_code: drbd_state_rv's SS_SUCCESS and SS_NOTHING_TO_DO,
	// and drbd_ret_code's NO_ERROR.
	ssSuccess, ssNothingToDo, noError = 1, 2, 101
)

// errNoGenl means DRBD's netlink family is not there to ask (no 8.4
// module, or not allowed): the caller falls back to drbdsetup.
var errNoGenl = errors.New("drbd: no generic netlink family")

// roleRequest encodes a primary or secondary request for minor: the
// family's header (struct drbd_genlmsghdr: minor, flags) and, for
// primary, set_role_parms with assume_uptodate as --force.
func roleRequest(minor int, primary, force bool) (genetlink.Message, error) {
	hdr := make([]byte, 8)
	binary.NativeEndian.PutUint32(hdr, uint32(minor))
	cmd := uint8(admSecondary)
	if primary {
		cmd = admPrimary
	}
	ae := netlink.NewAttributeEncoder()
	ae.Nested(nlaSetRoleParms, func(nae *netlink.AttributeEncoder) error {
		if primary && force {
			nae.Uint8(tAssumeUptodate|fMandatory, 1)
		}
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return genetlink.Message{}, err
	}
	return genetlink.Message{Header: genetlink.Header{Command: cmd, Version: genlVersion}, Data: append(hdr, attrs...)}, nil
}

// replyError reads a reply's ret_code and, on failure, the kernel's text.
func replyError(data []byte) error {
	if len(data) < 8 {
		return fmt.Errorf("drbd: short netlink reply (%d bytes)", len(data))
	}
	rc := int32(binary.NativeEndian.Uint32(data[4:]))
	if rc == ssSuccess || rc == ssNothingToDo || rc == noError {
		return nil
	}
	text := ""
	if ad, err := netlink.NewAttributeDecoder(data[8:]); err == nil {
		for ad.Next() {
			if ad.Type()&^fMandatory == nlaCfgReply {
				ad.Nested(func(nad *netlink.AttributeDecoder) error {
					for nad.Next() {
						if nad.Type()&^fMandatory == tInfoText {
							text = nad.String()
						}
					}
					return nil
				})
			}
		}
	}
	return fmt.Errorf("drbd: state change refused (%d) %s", rc, text)
}

// genlRole asks the 8.4 module to change minor's role, as drbdsetup-84
// primary/secondary would. errNoGenl (wrapped) means it could not ask.
func genlRole(minor int, primary, force bool) error {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoGenl, err)
	}
	defer c.Close()
	f, err := c.GetFamily(genlFamily)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoGenl, err)
	}
	if f.Version != genlVersion {
		return fmt.Errorf("%w: version %d", errNoGenl, f.Version)
	}
	m, err := roleRequest(minor, primary, force)
	if err != nil {
		return err
	}
	msgs, err := c.Execute(m, f.ID, netlink.Request|netlink.Acknowledge)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoGenl, err)
	}
	for _, r := range msgs {
		if err := replyError(r.Data); err != nil {
			return err
		}
	}
	if len(msgs) == 0 {
		return fmt.Errorf("%w: no reply", errNoGenl)
	}
	return nil
}
