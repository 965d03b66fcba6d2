package memlimit

import (
	"io/fs"
	"runtime/debug"
	"testing"
)

func system(env map[string]string, files map[string]string) System {
	return System{
		Getenv: func(k string) string { return env[k] },
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
	}
}

func TestResolve(t *testing.T) {
	v2 := map[string]string{cgroupV2File: "536870912\n"}
	cases := []struct {
		name, value string
		env, files  map[string]string
		want        int64
		from        string
		wantErr     string
	}{
		{name: "auto from a cgroup v2 limit", value: Auto, files: v2, want: 429496729, from: FromCgroup},
		{name: "auto from a cgroup v1 limit", value: Auto, files: map[string]string{cgroupV1File: "268435456"}, want: 214748364, from: FromCgroup},
		{name: "auto without a cgroup limit (v2)", value: Auto, files: map[string]string{cgroupV2File: "max\n"}},
		{name: "auto without a cgroup limit (v1)", value: Auto, files: map[string]string{cgroupV1File: "9223372036854771712\n"}},
		{name: "auto without cgroup files", value: Auto},
		{name: "a quantity", value: "200Mi", files: v2, want: 200 << 20, from: FromFlag},
		{name: "off", value: Off, files: v2},
		{name: "GOMEMLIMIT wins", value: "200Mi", env: map[string]string{"GOMEMLIMIT": "300MiB"}, files: v2, from: FromEnv},
		{name: "not a quantity", value: "lots", wantErr: `--memory-limit "lots": want auto, off or a quantity such as 200Mi`},
		{name: "negative", value: "-1Mi", wantErr: `--memory-limit "-1Mi": want a positive quantity`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, from, err := Resolve(c.value, system(c.env, c.files))
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want || from != c.from {
				t.Fatalf("limit %d from %q, want %d from %q", got, from, c.want, c.from)
			}
		})
	}
}

func TestApplySetsTheRuntimeLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	got, from, err := Apply("123Mi", system(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got != 123<<20 || from != FromFlag || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Fatalf("limit %d from %q, runtime %d; want %d from the flag", got, from, debug.SetMemoryLimit(-1), 123<<20)
	}
	if _, _, err := Apply("lots", system(nil, nil)); err == nil {
		t.Fatal("a bad value was accepted")
	}
}
