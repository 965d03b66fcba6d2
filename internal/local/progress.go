package local

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/districtlake/districtlake/internal/report"
	"github.com/districtlake/districtlake/internal/term"
)

// Progress reports districts as they finish: a bar redrawn in place on a terminal, one
// plain line per district otherwise. It is safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	total    int
	done     int
	width    int
	drawn    bool
}

// NewProgress reports total districts to w; terminal selects the bar.
func NewProgress(w io.Writer, total int, terminal bool) *Progress {
	return &Progress{w: w, total: total, terminal: terminal, width: 20}
}

// Started notes that a district began (a plain line when not on a terminal).
func (p *Progress) Started(name string) {
	name = term.Escape(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.draw(name + " ...")
		return
	}
	fmt.Fprintf(p.w, "Ingesting district %s\n", name)
}

// Finished notes that a district ended with rows written, or failed with err; the error
// is printed in full on a line of its own.
func (p *Progress) Finished(name string, rows int64, err error) {
	name = term.Escape(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	status := fmt.Sprintf("%s ok %s rows", name, report.Thousands(rows))
	if err != nil {
		status = name + " FAILED"
	}
	if !p.terminal {
		if err != nil {
			fmt.Fprintf(p.w, "Failed district %s (%d/%d): %s\n", name, p.done, p.total, term.Text(err.Error()))
		} else {
			fmt.Fprintf(p.w, "Ingested district %s (%d/%d): %s rows\n", name, p.done, p.total, report.Thousands(rows))
		}
		return
	}
	if err != nil {
		p.clear()
		fmt.Fprintf(p.w, "Failed district %s: %s\n", name, term.Text(err.Error()))
	}
	p.draw(status)
}

// Close ends the bar's line.
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// Bar renders the bar for done of total, such as "[#####-----] 3/4 districts".
func Bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return fmt.Sprintf("[%s%s] %d/%d districts", strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total)
}

func (p *Progress) draw(status string) {
	p.clear()
	fmt.Fprintf(p.w, "%s  %s", Bar(p.done, p.total, p.width), status)
	p.drawn = true
}

// clear erases the bar's line (carriage return, then erase to the end of the line).
func (p *Progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
