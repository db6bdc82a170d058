package appnet

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// BuildGARP builds a gratuitous ARP request announcing that ip is at mac:
// sender and target protocol address are both ip, target hardware
// address zero (RFC 5227), in an Ethernet broadcast frame.
func BuildGARP(ip netip.Addr, mac net.HardwareAddr) []byte {
	f := make([]byte, 14+28)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], 0x0806) // ARP
	copy(f[14:], buildARP(ip, mac))
	return f
}

// buildARP is the 28-byte ARP payload.
func buildARP(ip netip.Addr, mac net.HardwareAddr) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], 1) // request
	copy(a[8:14], mac)
	ip4 := ip.As4()
	copy(a[14:18], ip4[:])
	copy(a[24:28], ip4[:])
	return a
}

// GARPCount and GARPInterval: announce each moved address a few times so
// that a lost frame does not leave a stale ARP entry.
const (
	GARPCount    = 3
	GARPInterval = 200 * time.Millisecond
)

// Announce sends the gratuitous ARPs for addrs on card GARPCount times,
// GARPInterval apart, until ctx ends; the first error stops it.
func Announce(ctx context.Context, card string, addrs []netip.Prefix) error {
	for i := 0; i < GARPCount; i++ {
		if err := SendGARP(card, addrs); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(GARPInterval):
		}
	}
	return nil
}

// SendGARP sends one gratuitous ARP per address on card.
func SendGARP(card string, addrs []netip.Prefix) error {
	ifc, err := net.InterfaceByName(card)
	if err != nil {
		return err
	}
	return sendGARPs(ifc.Index, ifc.HardwareAddr, addrs, 1)
}

// sendGARPs sends count gratuitous ARPs per address, back to back, from
// the card with index and mac, through one packet socket.
func sendGARPs(index int, mac net.HardwareAddr, addrs []netip.Prefix, count int) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrLinklayer{Ifindex: index, Halen: 6, Protocol: htons(unix.ETH_P_ARP)}
	copy(sa.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	for range count {
		for _, p := range addrs {
			if err := unix.Sendto(fd, BuildGARP(p.Addr(), mac), 0, sa); err != nil {
				return err
			}
		}
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
