package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/districtlake/districtlake/internal/lake"
	"github.com/districtlake/districtlake/internal/plan"
)

// MinIO is a MinIO server process on a loopback port, storing its data in Dir.
type MinIO struct {
	// Endpoint is host:port, without a scheme (plain http).
	Endpoint  string
	AccessKey string
	SecretKey string
	// Dir holds the server's data; it survives Restart.
	Dir string

	t       testing.TB
	bin     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startTimeout bounds how long a MinIO start may take before the test fails.
const startTimeout = 60 * time.Second

// StartMinIO starts a MinIO server (DISTRICTLAKE_MINIO or <repo>/bin/minio) on a free
// loopback port with a fresh data folder, waits until it serves, and stops it when the
// test ends.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin := binary(t, "DISTRICTLAKE_MINIO", "minio")
	base := t.TempDir()
	m := &MinIO{
		Endpoint:  "127.0.0.1:" + freePort(t),
		AccessKey: "districtlake-test",
		SecretKey: "districtlake-test-secret-4f9c",
		Dir:       filepath.Join(base, "data"),
		t:         t,
		bin:       bin,
		logPath:   filepath.Join(base, "minio.log"),
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		t.Fatalf("MinIO data folder: %v", err)
	}
	m.start(t)
	t.Cleanup(m.Stop)
	return m
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func (m *MinIO) start(t testing.TB) {
	t.Helper()
	log, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("MinIO log: %v", err)
	}
	cmd := exec.Command(m.bin, "server", "--quiet", "--address", m.Endpoint, m.Dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group (so Kill reaches only it), and killed with the test binary
	// even when the test process dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("starting MinIO %s: %v", m.bin, err)
	}
	m.cmd = cmd
	m.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(m.exited)
	}()
	if err := m.waitLive(); err != nil {
		m.Kill()
		t.Fatalf("MinIO at %s did not start: %v\n--- %s ---\n%s", m.Endpoint, err, m.logPath, m.logTail())
	}
}

func (m *MinIO) waitLive() error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-m.exited:
			return errors.New("the process exited")
		default:
		}
		ok := true
		for _, p := range []string{"/minio/health/live", "/minio/health/ready"} {
			resp, err := client.Get("http://" + m.Endpoint + p)
			if err != nil {
				ok = false
				break
			}
			_ = resp.Body.Close()
			ok = ok && resp.StatusCode == http.StatusOK
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s", startTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *MinIO) logTail() string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10s). Stopping a stopped server does
// nothing.
func (m *MinIO) Stop() {
	if m.cmd == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.exited
	}
	m.cmd = nil
}

// Kill ends the server at once with SIGKILL, as a crash would, and waits for it to exit.
func (m *MinIO) Kill() {
	if m.cmd == nil {
		return
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.exited
	m.cmd = nil
}

// Restart starts the server again (after Stop or Kill, or stopping it first) on the same
// port with the same data.
func (m *MinIO) Restart(t testing.TB) {
	t.Helper()
	m.Stop()
	m.start(t)
}

// Client is a minio-go client with the server's root credentials.
func (m *MinIO) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("MinIO client: %v", err)
	}
	return c
}

// CreateBucket makes a bucket.
func (m *MinIO) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("creating bucket %s in MinIO at %s: %v", name, m.Endpoint, err)
	}
}

// Lake is a plan lake in this server's bucket under prefix, with an environment holding
// its credentials under plan.EnvLakeAccessKeyID and plan.EnvLakeSecretAccessKey.
func (m *MinIO) Lake(bucket, prefix string) (lake.Config, lake.Env) {
	l := lake.Config{
		Type:               lake.TypeS3,
		Endpoint:           m.Endpoint,
		Bucket:             bucket,
		Prefix:             strings.Trim(prefix, "/"),
		Region:             "us-east-1",
		PathStyle:          true,
		AccessKeyIDEnv:     plan.EnvLakeAccessKeyID,
		SecretAccessKeyEnv: plan.EnvLakeSecretAccessKey,
	}
	return l, lake.MapEnv(map[string]string{
		plan.EnvLakeAccessKeyID:     m.AccessKey,
		plan.EnvLakeSecretAccessKey: m.SecretKey,
	})
}
