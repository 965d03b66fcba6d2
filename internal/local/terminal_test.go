package local

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/districtlake/districtlake/internal/compare"
)

// A district name or an error that quotes a server's reply must not reach the terminal
// with its control characters: they could rewrite the screen or the window title.
func TestTerminalOutputEscapesControlCharacters(t *testing.T) {
	const evil = "Evil\x1b]0;owned\x07 District\r\x1b[2K"
	var b bytes.Buffer
	_ = WriteStateTable(&b, "WI", "2020-21", []compare.District{{Name: evil, NCESID: "5508520"}})
	p := NewProgress(&b, 1, false)
	p.Started(evil)
	p.Finished(evil, 0, errors.New("source a: GET https://x/: 500 "+evil))
	p.Close()
	writeResults(&b, &RunResult{Districts: []DistrictResult{{Namespace: "ns", Name: "d", District: evil, Err: errors.New("line one\nline two " + evil)}}}, RunOptions{Command: "districtlake", Lake: "./la\x1bke"})
	out := b.String()
	for _, c := range []string{"\x1b", "\x07", "\r"} {
		if strings.Contains(out, c) {
			t.Errorf("output holds the raw control character %q:\n%s", c, out)
		}
	}
	if !strings.Contains(out, `Evil\x1b]0;owned\x07 District\r\x1b[2K`) {
		t.Errorf("output does not show the name escaped:\n%s", out)
	}
	if !strings.Contains(out, "line one\nline two") {
		t.Errorf("a multi-line error lost its line break:\n%s", out)
	}
}
