package peers

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// listening is ready when every 127.0.0.1 address is in the LISTEN state in
// /proc/net/tcp. Unlike a probe dial it leaves no trace in the server's
// logs; unlike a "listening" log line it is true only once listen(2) ran
// (squid logs "Accepting ..." before it calls listen). Without /proc it
// falls back to dialing.
func listening(addrs ...string) readyCheck {
	want := map[string]bool{}
	for _, a := range addrs {
		want[procNetKey(a)] = true
	}
	return func() (bool, error) {
		data, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			return dialable(addrs...)()
		}
		found := 0
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// f[1] local address "0100007F:1F90", f[3] state, 0A is LISTEN
			if len(f) > 3 && f[3] == "0A" && want[f[1]] {
				found++
			}
		}
		if found < len(want) {
			return false, fmt.Errorf("%d of %v listening", found, addrs)
		}
		return true, nil
	}
}

// procNetKey renders 127.0.0.1:8080 as /proc/net/tcp does: the kernel
// prints the address's 4 network-order bytes read as a host-order word
// ("0100007F" on little-endian machines), the port as a plain number.
func procNetKey(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host).To4()
	p, _ := strconv.Atoi(port)
	if ip == nil {
		return addr // never matches; the check then times out with a message
	}
	return fmt.Sprintf("%08X:%04X", binary.NativeEndian.Uint32(ip), p)
}
