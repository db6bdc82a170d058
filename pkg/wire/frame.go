// Package wire frames, encrypts and authenticates the one-line requests
// and replies that every linuxha daemon and tool exchange (DESIGN §4,
// Reference §25.4 L7588-7600). It imports none of the project's packages.
//
// Two framings exist. Legacy is the Reference's frame exactly:
//
//	hex( Blowfish-448-CBC( "<md5hex of plain>,<REQUEST arg=val ...>" ) ) "\n"
//
// laid out as Perl's Crypt::CBC 2.x wrote it ("RandomIV" header, 8-byte
// IV, PKCS#5 padding, key = MD5 chain of the codeword). It detects
// corruption but not forgery or replay. Authenticated (the default) keeps
// Blowfish and adds a random IV per message, a timestamp and nonce, and an
// HMAC-SHA256 over the whole frame under a key separate from the cipher
// key; both keys are derived from the cluster name and Global.key, so a
// frame from another cluster, a changed bit, and a frame seen before are
// all rejected.
package wire

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/blowfish"
)

// Framing selects the frame format.
type Framing int

const (
	Authenticated Framing = 1 + iota // default: HMAC, freshness, replay protection
	Legacy                           // the Reference's frame (L7592-7600)
)

// FramingOf maps Global.framing ("legacy", else authenticated) to a Framing.
func FramingOf(name string) Framing {
	if name == "legacy" {
		return Legacy
	}
	return Authenticated
}

func (f Framing) String() string {
	switch f {
	case Authenticated:
		return "authenticated"
	case Legacy:
		return "legacy"
	}
	return "unknown"
}

// Errors a frame can be rejected with.
var (
	ErrTooLarge = errors.New("wire: frame too large")
	ErrFormat   = errors.New("wire: malformed frame")
	ErrCorrupt  = errors.New("wire: checksum mismatch")
	ErrAuth     = errors.New("wire: authentication failed")
	ErrReplay   = errors.New("wire: replayed frame")
	ErrStale    = errors.New("wire: frame outside freshness window")
)

// MaxFrame bounds one line on the wire (hex doubles the size).
const MaxFrame = 64 << 10

// DefaultWindow is how far a frame's timestamp may be from the receiver's
// clock. The nodes may legitimately differ by up to 10 minutes before
// forming is refused (L1874), so the window is wider than that.
const DefaultWindow = 15 * time.Minute

const (
	legacyHeader = "RandomIV"
	authVersion  = 0x02
	authHeadLen  = 1 + 8 + 8 + blowfish.BlockSize // version, time, nonce, IV
	macLen       = sha256.Size
)

// Codec seals and opens frames for one cluster. It is safe for concurrent
// use; its replay cache is shared by every connection that uses it.
type Codec struct {
	framing   Framing
	block     cipher.Block
	macKey    []byte
	window    time.Duration
	now       func() time.Time
	rand      io.Reader
	mu        sync.Mutex
	seen      map[[8]byte]int64 // nonce -> timestamp, for the window
	lastPrune int64
}

// Option adjusts a Codec.
type Option func(*Codec)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(c *Codec) { c.now = now } }

// WithRand replaces the source of IVs and nonces, for golden tests.
func WithRand(r io.Reader) Option { return func(c *Codec) { c.rand = r } }

// WithWindow sets the freshness window.
func WithWindow(d time.Duration) Option { return func(c *Codec) { c.window = d } }

// NewCodec derives the keys for cluster and key (Global.name, Global.key).
func NewCodec(f Framing, cluster, key string, opts ...Option) (*Codec, error) {
	c := &Codec{framing: f, window: DefaultWindow, now: time.Now, rand: rand.Reader, seen: map[[8]byte]int64{}}
	var ck []byte
	switch f {
	case Legacy:
		ck = legacyKey(key)
	case Authenticated:
		sum := sha512.Sum512([]byte("linuxha cipher v1\x00" + cluster + "\x00" + key))
		ck = sum[:56]
		m := sha256.Sum256([]byte("linuxha mac v1\x00" + cluster + "\x00" + key))
		c.macKey = m[:]
	default:
		return nil, fmt.Errorf("wire: unknown framing %d", f)
	}
	b, err := blowfish.NewCipher(ck)
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	c.block = b
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// legacyKey is Crypt::CBC 2.x's key material for a 56-byte (448-bit)
// Blowfish key: MD5 of the codeword, extended by MD5 of what is there.
func legacyKey(key string) []byte {
	s := md5.Sum([]byte(key))
	k := s[:]
	for len(k) < 56 {
		n := md5.Sum(k)
		k = append(k, n[:]...)
	}
	return k[:56]
}

// Seal frames msg (a request or reply without newline) as one line,
// newline included.
func (c *Codec) Seal(msg string) ([]byte, error) {
	if strings.ContainsAny(msg, "\n\r") {
		return nil, fmt.Errorf("%w: message contains a newline", ErrFormat)
	}
	sum := md5.Sum([]byte(msg))
	plain := pad([]byte(hex.EncodeToString(sum[:]) + "," + msg))
	var raw []byte
	switch c.framing {
	case Legacy:
		raw = make([]byte, len(legacyHeader)+blowfish.BlockSize+len(plain))
		copy(raw, legacyHeader)
		iv := raw[len(legacyHeader) : len(legacyHeader)+blowfish.BlockSize]
		if _, err := io.ReadFull(c.rand, iv); err != nil {
			return nil, err
		}
		cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(raw[len(legacyHeader)+blowfish.BlockSize:], plain)
	case Authenticated:
		raw = make([]byte, authHeadLen+len(plain)+macLen)
		raw[0] = authVersion
		binary.BigEndian.PutUint64(raw[1:9], uint64(c.now().UnixNano()))
		if _, err := io.ReadFull(c.rand, raw[9:authHeadLen]); err != nil { // nonce and IV
			return nil, err
		}
		iv := raw[17:authHeadLen]
		body := raw[authHeadLen : authHeadLen+len(plain)]
		cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(body, plain)
		m := hmac.New(sha256.New, c.macKey)
		m.Write(raw[:authHeadLen+len(plain)])
		copy(raw[authHeadLen+len(plain):], m.Sum(nil))
	}
	out := make([]byte, hex.EncodedLen(len(raw))+1)
	hex.Encode(out, raw)
	out[len(out)-1] = '\n'
	if len(out) > MaxFrame {
		return nil, ErrTooLarge
	}
	return out, nil
}

// Open checks and decrypts one line (with or without its newline) and
// returns the message.
func (c *Codec) Open(line []byte) (string, error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) > MaxFrame {
		return "", ErrTooLarge
	}
	raw := make([]byte, hex.DecodedLen(len(line)))
	if _, err := hex.Decode(raw, line); err != nil {
		return "", fmt.Errorf("%w: not hex", ErrFormat)
	}
	var plain []byte
	switch c.framing {
	case Legacy:
		h := len(legacyHeader) + blowfish.BlockSize
		if len(raw) < h+blowfish.BlockSize || (len(raw)-h)%blowfish.BlockSize != 0 || string(raw[:len(legacyHeader)]) != legacyHeader {
			return "", fmt.Errorf("%w: bad length or header", ErrFormat)
		}
		plain = make([]byte, len(raw)-h)
		cipher.NewCBCDecrypter(c.block, raw[len(legacyHeader):h]).CryptBlocks(plain, raw[h:])
	case Authenticated:
		if len(raw) < authHeadLen+blowfish.BlockSize+macLen || raw[0] != authVersion || (len(raw)-authHeadLen-macLen)%blowfish.BlockSize != 0 {
			return "", fmt.Errorf("%w: bad length or version", ErrFormat)
		}
		body := raw[:len(raw)-macLen]
		m := hmac.New(sha256.New, c.macKey)
		m.Write(body)
		if !hmac.Equal(m.Sum(nil), raw[len(raw)-macLen:]) {
			return "", ErrAuth
		}
		ts := int64(binary.BigEndian.Uint64(raw[1:9]))
		var nonce [8]byte
		copy(nonce[:], raw[9:17])
		if err := c.fresh(ts, nonce); err != nil {
			return "", err
		}
		plain = make([]byte, len(body)-authHeadLen)
		cipher.NewCBCDecrypter(c.block, raw[17:authHeadLen]).CryptBlocks(plain, body[authHeadLen:])
	}
	plain, ok := unpad(plain)
	if !ok {
		return "", fmt.Errorf("%w: bad padding", ErrCorrupt)
	}
	sumHex, msg, ok := bytes.Cut(plain, []byte(","))
	if !ok || len(sumHex) != 32 {
		return "", fmt.Errorf("%w: no checksum", ErrCorrupt)
	}
	sum := md5.Sum(msg)
	if hex.EncodeToString(sum[:]) != string(sumHex) {
		return "", ErrCorrupt
	}
	return string(msg), nil
}

// fresh enforces the window and remembers nonces for twice its length.
func (c *Codec) fresh(ts int64, nonce [8]byte) error {
	now := c.now().UnixNano()
	w := int64(c.window)
	if ts < now-w || ts > now+w {
		return ErrStale
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.seen[nonce]; dup {
		return ErrReplay
	}
	if now-c.lastPrune > w/4 {
		for n, t := range c.seen {
			if t < now-w {
				delete(c.seen, n)
			}
		}
		c.lastPrune = now
	}
	c.seen[nonce] = ts
	return nil
}

func pad(b []byte) []byte {
	n := blowfish.BlockSize - len(b)%blowfish.BlockSize
	return append(b, bytes.Repeat([]byte{byte(n)}, n)...)
}

func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n < 1 || n > blowfish.BlockSize || n > len(b) {
		return nil, false
	}
	for _, x := range b[len(b)-n:] {
		if int(x) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}
