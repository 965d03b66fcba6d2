// Command egressprobe runs in a pod during the end-to-end test of the cluster's egress guard:
// it sends to the addresses it is given and prints what happened, and always exits 0 so that
// the test reads the outcome from its log.
//
//	egressprobe udp HOST:PORT tcp HOST:PORT ...
//
// udp sends three datagrams; tcp tries one connection (three seconds at most).
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	args := os.Args[1:]
	for i := 0; i+1 < len(args); i += 2 {
		proto, addr := args[i], args[i+1]
		switch proto {
		case "udp":
			fmt.Printf("udp %s: %s\n", addr, sendUDP(addr))
		case "tcp":
			fmt.Printf("tcp %s: %s\n", addr, dialTCP(addr))
		default:
			fmt.Printf("%s %s: unknown protocol\n", proto, addr)
		}
	}
}

// sendUDP sends from an unconnected socket, so that an ICMP error for one datagram does not
// stop the next ones.
func sendUDP(addr string) string {
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return "resolve: " + err.Error()
	}
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return "socket: " + err.Error()
	}
	defer c.Close()
	for i := 1; i <= 3; i++ {
		if _, err := c.WriteTo([]byte(fmt.Sprintf("leak-probe-%d\n", i)), to); err != nil {
			return fmt.Sprintf("send %d: %v", i, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "sent 3 datagrams"
}

func dialTCP(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	_, _ = fmt.Fprintln(c, "leak-probe-tcp")
	_ = c.Close()
	return "connected"
}
