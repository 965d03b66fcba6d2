// Command origin serves the files of one folder over HTTP as a federal file server would
// (ETag, Last-Modified, conditional and range requests) and counts what it sends: after
// each request it rewrites -stats with "requests N" and "bytes N" lines (body bytes sent),
// so a benchmark can report the origin's traffic.
//
//	go run ./hack/bench/origin -dir /tmp/bench -addr 127.0.0.1:18080 -stats /tmp/bench/origin.stats
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
)

func main() {
	dir := flag.String("dir", ".", "folder whose files are served")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	stats := flag.String("stats", "", "file rewritten after each request with the counts")
	ready := flag.String("ready", "", "file the listening address is written to once serving")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	c := &counter{stats: *stats, next: http.FileServer(http.Dir(*dir))}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ln, c))
}

// counter counts requests and body bytes and writes them to stats.
type counter struct {
	mu       sync.Mutex
	stats    string
	requests int64
	bytes    int64
	next     http.Handler
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	c.next.ServeHTTP(cw, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.bytes += cw.n
	if c.stats != "" {
		_ = os.WriteFile(c.stats, []byte(fmt.Sprintf("requests %d\nbytes %d\n", c.requests, c.bytes)), 0o644)
	}
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}
