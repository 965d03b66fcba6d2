package term

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, one, text string }{
		{"Madison Metropolitan", "Madison Metropolitan", "Madison Metropolitan"},
		{"Niño Élémentaire", "Niño Élémentaire", "Niño Élémentaire"},
		{"evil\x1b]0;pwned\x07name", `evil\x1b]0;pwned\x07name`, `evil\x1b]0;pwned\x07name`},
		{"two\nlines\tand\rcr", `two\nlines\tand\rcr`, "two\nlines\tand\\rcr"},
		{"c1\u0085next\u2028sep", `c1\u0085next\u2028sep`, `c1\u0085next\u2028sep`},
		{"bidi\u202egnp.exe", `bidi\u202egnp.exe`, `bidi\u202egnp.exe`},
		{"bad\xffbyte", `bad\xffbyte`, `bad\xffbyte`},
		{"del\x7f", `del\x7f`, `del\x7f`},
	} {
		if got := Escape(tc.in); got != tc.one {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.one)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}
