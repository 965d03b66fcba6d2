package lake

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// tempPrefix starts the names of files being written; List never shows them.
const tempPrefix = ".tmp-"

// fileStore is a lake in a local folder with the same layout as a bucket.
//
// Publishing an object is a rename of a finished temporary file, atomic on one file
// system: a process killed at any point leaves the old object or the new one. Durability
// against a crash of the machine comes from Sync (one syncfs of the lake's file system),
// which callers run before a commit point that names other objects (a shared source's
// manifest) and at the end of a run, instead of an fsync of every file and folder: at
// 13,000 districts those were a third of a run's time.
type fileStore struct {
	root string
	// dirs holds the folders this store has made or seen, so that each is made once.
	dirs sync.Map
	// tempID and seq name temporary files uniquely across processes and writers.
	tempID string
	seq    atomic.Uint64
	// buffers holds the write buffers of finished writers (*bufio.Writer), for the next.
	buffers sync.Pool
	// chmod is set when files are not created readable by all (the umask is not known,
	// or takes bits of objectMode away): each is chmod'ed when published.
	chmod bool
}

// objectMode is the mode of a published object: readable like any other file.
const objectMode = 0o644

func fileLake(p string) (Config, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return Config{}, fmt.Errorf("lake path %q: %w", p, err)
	}
	return Config{Type: TypeFile, Path: abs}, nil
}

func newFile(l Config) (*fileStore, error) {
	if l.Path == "" {
		return nil, errors.New("file lake: no path given")
	}
	root, err := filepath.Abs(l.Path)
	if err != nil {
		return nil, fmt.Errorf("file lake %q: %w", l.Path, err)
	}
	if p := strings.Trim(l.Prefix, "/"); p != "" {
		root = filepath.Join(root, filepath.FromSlash(p))
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("file lake %s: %w", root, err)
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("file lake %s: %w", root, err)
	}
	mask, known := processUmask()
	return &fileStore{root: root, tempID: fmt.Sprintf("%d-%x", os.Getpid(), id), chmod: !known || mask&objectMode != 0}, nil
}

func (s *fileStore) URL() string { return "file://" + filepath.ToSlash(s.root) }

func (s *fileStore) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

func (s *fileStore) Stat(_ context.Context, key string) (ObjectInfo, error) {
	key, err := cleanKey(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		return ObjectInfo{}, s.fail("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", s.path(key), ErrNotExist)
	}
	return ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime().UTC()}, nil
}

func (s *fileStore) fail(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s: %w", op, s.path(key), ErrNotExist)
	}
	return fmt.Errorf("%s %s: %w", op, s.path(key), err)
}

func (s *fileStore) List(_ context.Context, prefix string) ([]ObjectInfo, error) {
	// Walk from the deepest folder the prefix names.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(s.root, filepath.FromSlash(prefix[:i]))
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() && p == filepath.Join(s.root, LockDir) {
			return filepath.SkipDir // local runs' lock files, not objects
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tempPrefix) || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", start, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *fileStore) Open(_ context.Context, key string) (Object, error) {
	key, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	f, err := openFile(s.path(key), os.O_RDONLY, 0)
	if err != nil {
		return nil, s.fail("opening", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, s.fail("opening", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("opening %s: %w", s.path(key), ErrNotExist)
	}
	return &fileObject{File: f, size: fi.Size()}, nil
}

type fileObject struct {
	*os.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

func (s *fileStore) Put(ctx context.Context, key string, data []byte) (ObjectInfo, error) {
	w, err := s.Create(ctx, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort(err)
		return ObjectInfo{}, err
	}
	return w.Commit()
}

// Create writes a temporary file beside the destination; Commit renames it over the
// destination, which is atomic on one file system.
func (s *fileStore) Create(_ context.Context, key string) (Writer, error) {
	key, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	dst := s.path(key)
	if err := s.mkdir(filepath.Dir(dst)); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dst, err)
	}
	f, err := s.createTemp(dst)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", dst, err)
	}
	return &fileWriter{key: key, dst: dst, f: f, hash: sha256.New(), buffers: &s.buffers, chmod: s.chmod}, nil
}

// mkdir makes dir and its parents once per store. It makes dir first and its parents
// only when one is missing: os.MkdirAll stats the folder and its parent before making a
// new one, two system calls more for each of a national run's 13,000 district folders.
func (s *fileStore) mkdir(dir string) error {
	if _, ok := s.dirs.Load(dir); ok {
		return nil
	}
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.mkdir(filepath.Dir(dir)); err != nil {
			return err
		}
		err = os.Mkdir(dir, 0o755)
	}
	if errors.Is(err, fs.ErrExist) {
		var fi os.FileInfo
		if fi, err = os.Stat(dir); err == nil && !fi.IsDir() {
			err = &os.PathError{Op: "mkdir", Path: dir, Err: errors.New("a file of that name is in the way")}
		}
	}
	if err != nil {
		return err
	}
	s.dirs.Store(dir, struct{}{})
	return nil
}

// createTemp makes a new temporary file beside dst, named for this store and a sequence
// number (os.CreateTemp's random names cost a retry loop and a syscall more), with the
// mode of a published object less the umask.
func (s *fileStore) createTemp(dst string) (*tempFile, error) {
	for {
		name := fmt.Sprintf("%s%s-%s-%d", tempPrefix, filepath.Base(dst), s.tempID, s.seq.Add(1))
		f, err := createFile(filepath.Join(filepath.Dir(dst), name), objectMode)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// Sync makes every object published so far durable: one syncfs(2) of the lake's file
// system (see fileStore).
func (s *fileStore) Sync(context.Context) error {
	if err := syncFS(s.root); err != nil {
		return fmt.Errorf("syncing the lake %s: %w", s.root, err)
	}
	return nil
}

// fileBuffer is how many bytes a file writer gathers before writing them: a Parquet
// writer writes many small pieces (page headers, thrift structs), a system call each
// without it.
const fileBuffer = 8 << 10

// directWrite is the size from which a write with nothing buffered before it goes
// straight to the file: an object written whole in one Write (a manifest, a small
// Parquet file) needs no buffer.
const directWrite = 512

type fileWriter struct {
	key, dst string
	f        *tempFile
	chmod    bool
	bw       *bufio.Writer
	buffers  *sync.Pool
	hash     hash.Hash
	n        int64

	mu     sync.Mutex
	failed error
	ended  bool
}

func (w *fileWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return 0, fmt.Errorf("writing %s: the writer was already committed or aborted", w.dst)
	}
	if w.failed != nil {
		return 0, w.failed
	}
	var n int
	var err error
	if w.bw == nil && len(p) >= directWrite {
		n, err = w.f.Write(p)
	} else {
		n, err = w.buffer().Write(p)
	}
	w.hash.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.failed = fmt.Errorf("writing %s: %w", w.dst, err)
		return n, w.failed
	}
	return n, nil
}

// buffer is the writer's buffer, taken from the store's pool at its first small write.
func (w *fileWriter) buffer() *bufio.Writer {
	if w.bw == nil {
		if bw, ok := w.buffers.Get().(*bufio.Writer); ok {
			bw.Reset(w.f)
			w.bw = bw
		} else {
			w.bw = bufio.NewWriterSize(w.f, fileBuffer)
		}
	}
	return w.bw
}

// releaseBuffer returns the writer's buffer to the store's pool.
func (w *fileWriter) releaseBuffer() {
	if w.bw != nil {
		w.bw.Reset(nil)
		w.buffers.Put(w.bw)
		w.bw = nil
	}
}

func (w *fileWriter) Commit() (ObjectInfo, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return ObjectInfo{}, fmt.Errorf("committing %s: the writer was already committed or aborted", w.dst)
	}
	w.ended = true
	if w.failed != nil {
		w.discard()
		return ObjectInfo{}, w.failed
	}
	if w.bw != nil {
		err := w.bw.Flush()
		w.releaseBuffer()
		if err != nil {
			w.discard()
			return ObjectInfo{}, fmt.Errorf("writing %s: %w", w.dst, err)
		}
	}
	if w.chmod {
		if err := w.f.Chmod(objectMode); err != nil {
			w.discard()
			return ObjectInfo{}, fmt.Errorf("writing %s: %w", w.dst, err)
		}
	}
	modTime, err := w.f.ModTime()
	if err != nil {
		w.discard()
		return ObjectInfo{}, fmt.Errorf("writing %s: %w", w.dst, err)
	}
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return ObjectInfo{}, fmt.Errorf("writing %s: %w", w.dst, err)
	}
	if err := rename(w.f.Name(), w.dst); err != nil {
		_ = os.Remove(w.f.Name())
		return ObjectInfo{}, fmt.Errorf("publishing %s: %w", w.dst, err)
	}
	return ObjectInfo{Key: w.key, Size: w.n, SHA256: hex.EncodeToString(w.hash.Sum(nil)), LastModified: modTime.UTC()}, nil
}

func (w *fileWriter) Abort(error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.ended = true
	w.discard()
}

func (w *fileWriter) discard() {
	w.releaseBuffer()
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}
