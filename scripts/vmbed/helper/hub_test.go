package main

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// hubFrame is a length-prefixed Ethernet frame (QEMU's stream netdev) from
// node's first card to the broadcast address, carrying tag.
func hubFrame(node byte, tag byte) []byte {
	eth := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0, node, 0, 0x08, 0x00, tag}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(eth))), eth...)
}

// receives reports whether c gets a frame within d, and its tag.
func receives(c net.Conn, d time.Duration) (byte, bool) {
	c.SetReadDeadline(time.Now().Add(d))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return 0, false
	}
	eth := make([]byte, binary.BigEndian.Uint32(hdr))
	if _, err := io.ReadFull(c, eth); err != nil {
		return 0, false
	}
	return eth[len(eth)-1], true
}

// A one-way cut drops node 1's frames to node 2 and relays node 2's to
// node 1; heal (the file gone) relays both again.
func TestHubOneWay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	flag := filepath.Join(t.TempDir(), "partitioned")
	go hub([]string{flag, addr})
	var a, b net.Conn
	for range 100 {
		if a, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if b, err = net.Dial("tcp", addr); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	time.Sleep(50 * time.Millisecond) // both ports accepted
	// Each port makes itself known with a first frame.
	a.Write(hubFrame(1, 1))
	if tag, ok := receives(b, time.Second); !ok || tag != 1 {
		t.Fatalf("node 2 did not get node 1's frame before the cut")
	}
	b.Write(hubFrame(2, 2))
	if tag, ok := receives(a, time.Second); !ok || tag != 2 {
		t.Fatalf("node 1 did not get node 2's frame before the cut")
	}
	os.WriteFile(flag+".oneway", []byte("1 2\n"), 0o644)
	time.Sleep(100 * time.Millisecond) // the hub polls every 20 ms
	a.Write(hubFrame(1, 3))
	if tag, ok := receives(b, 300*time.Millisecond); ok {
		t.Errorf("node 2 got node 1's frame %d during the one-way cut", tag)
	}
	b.Write(hubFrame(2, 4))
	if tag, ok := receives(a, time.Second); !ok || tag != 4 {
		t.Errorf("node 1 did not get node 2's frame during the one-way cut")
	}
	os.Remove(flag + ".oneway")
	time.Sleep(100 * time.Millisecond)
	a.Write(hubFrame(1, 5))
	if tag, ok := receives(b, time.Second); !ok || tag != 5 {
		t.Errorf("node 2 did not get node 1's frame after the heal")
	}
}
