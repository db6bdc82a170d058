// Package appnet places an application's addresses (§26.5, L7765-7776):
// which addresses an application has on a node, which card carries a
// network, adding them with gratuitous ARP and removing them. clstartapp,
// clhaltapp and Lems's ip monitors share it.
package appnet

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// Addr is one application address and where it goes.
type Addr struct {
	Net    string
	Prefix netip.Prefix
}

// Addresses expands the application's networks into addresses with their
// prefix lengths: the application's netmask, or the node's own on that
// network.
func Addresses(app *config.App, top state.Topology, me string) ([]Addr, error) {
	var out []Addr
	for _, n := range app.Networks {
		bits := -1
		if n.Netmask.IsValid() {
			ones, _ := net.IPMask(n.Netmask.AsSlice()).Size()
			bits = ones
		}
		for _, ca := range top.Addrs(me) {
			if ca.Network == n.Net && bits < 0 {
				bits = ca.Prefix.Bits()
			}
		}
		if bits < 0 {
			return nil, fmt.Errorf("node %s has no address on network %s for application %s", me, n.Net, app.Name)
		}
		for _, ip := range n.IPs {
			out = append(out, Addr{Net: n.Net, Prefix: netip.PrefixFrom(ip, bits)})
		}
	}
	return out, nil
}

// CardFor finds the card that now carries this node's address on the
// network (clnetd may have moved it to a standby card).
func CardFor(top state.Topology, me, network string) (netlink.Link, error) {
	var want netip.Addr
	for _, ca := range top.Addrs(me) {
		if ca.Network == network {
			want = ca.Prefix.Addr()
		}
	}
	if !want.IsValid() {
		return nil, fmt.Errorf("no address of %s on network %s", me, network)
	}
	return LinkWith(want)
}

// LinkWith returns the link holding addr.
func LinkWith(addr netip.Addr) (netlink.Link, error) {
	// One dump of every address with its link's index, rather than a
	// dump of the links and one of each link's addresses: a takeover of
	// many applications asks this for each of their addresses.
	as, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == addr {
			return netlink.LinkByIndex(a.LinkIndex)
		}
	}
	return nil, fmt.Errorf("no card holds %s", addr)
}

// Add puts an application address on the network's card and
// announces it with gratuitous ARP.
func Add(top state.Topology, me string, a Addr) (string, error) {
	link, err := CardFor(top, me, a.Net)
	if err != nil {
		return "", err
	}
	return link.Attrs().Name, AddOn(link, a)
}

// AddOn puts an application address on the given card and announces it
// with gratuitous ARP.
func AddOn(link netlink.Link, a Addr) error {
	ipn := &net.IPNet{IP: a.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(a.Prefix.Bits(), a.Prefix.Addr().BitLen())}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipn}); err != nil && err != syscall.EEXIST {
		return fmt.Errorf("add %s to %s: %w", a.Prefix, link.Attrs().Name, err)
	}
	// GARPCount announcements back to back, before returning, as
	// keepalived sends its gratuitous ARPs by default (garp_master_repeat
	// with no interval): no goroutine outlives the call, and a start does
	// not wait GARPCount intervals per address. Neighbours that miss them
	// learn the address on their next ARP request, so a failed
	// announcement does not undo the address.
	sendGARPs(link.Attrs().Index, link.Attrs().HardwareAddr, []netip.Prefix{a.Prefix}, GARPCount)
	return nil
}

// Remove deletes an application address from whichever card has
// it; absent is not an error.
func Remove(a Addr) (bool, error) {
	link, err := LinkWith(a.Prefix.Addr())
	if err != nil {
		return false, nil
	}
	ipn := &net.IPNet{IP: a.Prefix.Addr().AsSlice(), Mask: net.CIDRMask(a.Prefix.Bits(), a.Prefix.Addr().BitLen())}
	if err := netlink.AddrDel(link, &netlink.Addr{IPNet: ipn}); err != nil {
		return false, fmt.Errorf("remove %s from %s: %w", a.Prefix, link.Attrs().Name, err)
	}
	return true, nil
}
