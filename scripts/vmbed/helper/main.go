// Command helper is the VM testbed's plumbing (scripts/vmbed), one static
// binary with four roles:
//
//	helper init PORT                    in the guest, as PID 1: run the agent on
//	                                    PORT and reap every orphaned process
//	helper agent [PORT]                 in the guest: run the commands sent over
//	                                    a virtio-serial port (default /dev/vport0p1)
//	helper exec SOCK [TIMEOUT] -- ARGV  on the host: run ARGV in the guest whose
//	                                    agent port is the unix socket SOCK
//	helper monitor SOCK CMD             on the host: one QEMU monitor command
//	helper sink PORT [FILE]             in the guest: a raw TCP stream, for benchmarks
//	helper source ADDR N [FILE]
//	helper hub FLAG ADDR...             on the host: one Ethernet hub per loopback
//	                                    TCP address, speaking QEMU's -netdev socket
//	                                    framing (4-byte length, frame); while the
//	                                    file FLAG exists it drops every frame (a
//	                                    partition with every link still up)
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type request struct {
	ID      string   `json:"id"` // echoed in the reply: a client skips replies meant for an earlier one
	Argv    []string `json:"argv"`
	Stdin   string   `json:"stdin"`
	Timeout float64  `json:"timeout"`
}

type reply struct {
	ID     string `json:"id"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper agent|exec|monitor|hub ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "agent":
		path := "/dev/vport0p1"
		if len(os.Args) > 2 {
			path = os.Args[2]
		}
		for {
			serve(path)
			time.Sleep(100 * time.Millisecond)
		}
	case "init":
		initReaper(os.Args[2:])
	case "exec":
		os.Exit(clientExec(os.Args[2:]))
	case "monitor":
		os.Exit(monitor(os.Args[2], strings.Join(os.Args[3:], " ")))
	case "hub":
		hub(os.Args[2:])
	case "sink": // helper sink PORT [FILE]: accept one connection, write it to FILE, print the bytes
		var out io.Writer = io.Discard
		if len(os.Args) > 3 {
			f, err := os.OpenFile(os.Args[3], os.O_WRONLY, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			defer f.Close()
			out = f
		}
		ln, err := net.Listen("tcp", ":"+os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		n, _ := io.Copy(out, c)
		if f, ok := out.(*os.File); ok {
			f.Sync()
		}
		fmt.Println(n)
	case "source": // helper source ADDR BYTES [FILE]: send that many bytes (of FILE, else zeros)
		n, _ := strconv.ParseInt(os.Args[3], 10, 64)
		var in io.Reader = zeros{}
		if len(os.Args) > 4 {
			f, err := os.Open(os.Args[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			in = f
		}
		c, err := net.Dial("tcp", os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if _, err := io.CopyN(c, in, n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.Close()
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown role", os.Args[1])
		os.Exit(2)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// --- guest agent ---

// initReaper is the guest's PID 1 once it is set up. Processes whose
// parent exits (daemons, the writers the tests start with setsid) become
// its children; a shell as PID 1 reaps them only now and then, and a
// zombie left behind passes `kill -0` for ever. It runs the agent as its
// child, starting it again should it die.
func initReaper(args []string) {
	for {
		cmd := exec.Command(os.Args[0], append([]string{"agent"}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "helper init:", err)
			time.Sleep(time.Second)
			continue
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if pid == cmd.Process.Pid {
				break
			}
			if err != nil && err != syscall.EINTR {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// serve answers requests on the guest's virtio port. It keeps the port
// open for ever: when a host client leaves, reads return EOF until the next
// one connects, and closing the port then would make the kernel discard
// whatever that next client has already sent (virtio_console's release
// drops the port's pending data), leaving it waiting for a reply that never
// comes. That is how a request right after `vmbed up`'s boot check used to
// go unanswered.
func serve(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := f.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			if len(bytes.TrimSpace(pending[:i])) > 0 {
				answer(f, pending[:i])
			}
			pending = pending[i+1:]
		}
		switch {
		case err == io.EOF || (err == nil && n == 0):
			// The host side is gone: what it left half-sent is no one's.
			pending = nil
			time.Sleep(20 * time.Millisecond)
		case err != nil:
			return
		}
	}
}

// answer runs one request line and writes its reply. A reply the host is no
// longer there to read is dropped; the client that sent the request has
// given up on it. The reply starts with a newline, so that a reply cut off
// half-way, should the next client see it, ends as a line of its own, which
// the client skips, and does not swallow the reply it waits for.
func answer(f *os.File, line []byte) {
	var req request
	rep := reply{Stderr: "agent: bad request", Code: 255}
	if err := json.Unmarshal(line, &req); err == nil && len(req.Argv) > 0 {
		rep = run(req)
	}
	rep.ID = req.ID
	// A host that went away must not leave the agent blocked in a write.
	f.SetWriteDeadline(time.Now().Add(30 * time.Second))
	b, _ := json.Marshal(rep)
	f.Write(append(append([]byte{'\n'}, b...), '\n'))
}

func run(req request) reply {
	t := time.Duration(req.Timeout * float64(time.Second))
	if t <= 0 {
		t = 10 * time.Minute
	}
	cmd := exec.Command(req.Argv[0], req.Argv[1:]...)
	cmd.Env = append(os.Environ(), "PATH=/linuxha:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/drbd", "HOME=/root")
	cmd.Stdin = strings.NewReader(req.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// A background process the command leaves behind may hold its output
	// pipes open; without a limit Wait would block until that process
	// ends, and the agent, which serves one request at a time, with it.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return reply{Stderr: err.Error(), Code: 127}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = 126
		}
		return reply{Stdout: out.String(), Stderr: errb.String(), Code: code}
	case <-time.After(t):
		diag := diagnose(cmd.Process.Pid)
		cmd.Process.Kill()
		<-done
		return reply{Stdout: out.String(), Stderr: errb.String() + "agent: timed out; the guest then:\n" + diag, Code: 124}
	}
}

// diagnose describes, for a command that timed out, what the guest's
// processes were waiting on and the kernel's last messages.
func diagnose(pid int) string {
	c := exec.Command("sh", "-c", `ps -o pid,ppid,stat,args; for p in /proc/[0-9]*; do
		s=$(cut -d' ' -f3 $p/stat 2>/dev/null); case $s in D|S) ;; *) continue;; esac
		echo "${p#/proc/} $(cat $p/wchan 2>/dev/null) $(tr '\0' ' ' < $p/cmdline 2>/dev/null | cut -c1-100)"; done | grep -v ' 0 *$' | tail -40
		echo "timed out: $0"; dmesg | tail -20`, strconv.Itoa(pid))
	c.WaitDelay = time.Second
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	if c.Start() == nil {
		t := time.AfterFunc(10*time.Second, func() { c.Process.Kill() })
		c.Wait()
		t.Stop()
	}
	return b.String()
}

// --- host side ---

func clientExec(args []string) int {
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: helper exec SOCK [TIMEOUT] -- ARGV")
		return 2
	}
	sock, rest := args[0], args[1:]
	timeout := 600.0
	if rest[0] != "--" {
		timeout, _ = strconv.ParseFloat(rest[0], 64)
		rest = rest[1:]
	}
	rest = rest[1:]
	stdin := ""
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		b, _ := io.ReadAll(os.Stdin)
		stdin = string(b)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 255
	}
	defer c.Close()
	id := strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.Itoa(os.Getpid())
	if err := json.NewEncoder(c).Encode(request{ID: id, Argv: rest, Stdin: stdin, Timeout: timeout}); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 255
	}
	c.SetReadDeadline(time.Now().Add(time.Duration(timeout+10) * time.Second))
	r := bufio.NewReaderSize(c, 1<<20)
	var rep reply
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: no reply from the guest agent:", err)
			return 255
		}
		if err := json.Unmarshal(line, &rep); err == nil && rep.ID == id {
			break
		}
	}
	os.Stdout.WriteString(rep.Stdout)
	os.Stderr.WriteString(rep.Stderr)
	return rep.Code
}

func monitor(sock, cmd string) int {
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", cmd)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	time.Sleep(200 * time.Millisecond)
	io.Copy(io.Discard, c)
	return 0
}

// hub relays every frame one port sends to every other port of the same
// hub, like an Ethernet hub; each listen address is one network. While
// the file flag exists nothing is relayed: the nodes are partitioned but
// every card keeps its carrier, as when a switch between them fails.
// While FLAG.oneway holds "FROM TO" (node numbers), frames from node FROM
// to node TO are dropped and the other way relayed: a port is node N's
// once it has sent a frame from one of N's cards (52:54:00:00:0N:..).
func hub(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helper hub FLAG ADDR...")
		os.Exit(2)
	}
	flag, addrs := args[0], args[1:]
	var cut atomic.Bool
	var oneway atomic.Uint32 // FROM<<8 | TO, 0 when off
	go func() {
		for {
			_, err := os.Stat(flag)
			cut.Store(err == nil)
			var from, to uint32
			if b, err := os.ReadFile(flag + ".oneway"); err == nil {
				fmt.Sscan(string(b), &from, &to)
			}
			oneway.Store(from<<8 | to)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper hub:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex              // guards ports
			ports := map[net.Conn]uint32{} // the port's node, 0 until known
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				ports[c] = 0
				mu.Unlock()
				go func() {
					defer func() { mu.Lock(); delete(ports, c); mu.Unlock(); c.Close() }()
					r := bufio.NewReaderSize(c, 1<<16)
					hdr := make([]byte, 4)
					for {
						if _, err := io.ReadFull(r, hdr); err != nil {
							return
						}
						n := binary.BigEndian.Uint32(hdr)
						if n > 65536 {
							return
						}
						frame := make([]byte, 4+n)
						copy(frame, hdr)
						if _, err := io.ReadFull(r, frame[4:]); err != nil {
							return
						}
						if cut.Load() {
							continue
						}
						ow := oneway.Load()
						mu.Lock()
						if node := frameNode(frame[4:]); node != 0 {
							ports[c] = node
						}
						for p, node := range ports {
							if p == c || ow != 0 && ports[c] == ow>>8 && node == ow&0xff {
								continue
							}
							p.SetWriteDeadline(time.Now().Add(time.Second))
							p.Write(frame)
						}
						mu.Unlock()
					}
				}()
			}
		}()
	}
	wg.Wait()
}

// frameNode is the node number of an Ethernet frame's source card
// (vmbed gives node N's cards 52:54:00:00:0N:0C), or 0.
func frameNode(eth []byte) uint32 {
	if len(eth) < 12 || eth[6] != 0x52 || eth[7] != 0x54 || eth[8] != 0 || eth[9] != 0 {
		return 0
	}
	return uint32(eth[10])
}
