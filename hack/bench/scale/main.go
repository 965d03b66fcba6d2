// Command scale is issue 13's benchmark: against one envtest kube-apiserver and etcd it
// times the floor (raw creates of N DistrictSources, N ConfigMaps and N CronJobs, what a
// perfect operator would make the API server do, status aside), then the real manager
// binary taking N DistrictSources to their children and Ready=True, then a restart of the
// manager over the N unchanged DistrictSources (a full resync), and prints one table row
// per N: wall times, their ratio, the CPU time of the whole run (control plane, this
// program, the manager) during each and their ratio, reconciles per second, the manager's
// peak RSS and CPU, the API requests by verb and the resync's write requests.
//
//	go run ./hack/bench/scale -n 1000,13300 -workers 64
//
// It needs KUBEBUILDER_ASSETS (kube-apiserver, etcd) and runs from the repository root.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/go-logr/logr"
)

// options are the command's flags.
type options struct {
	sizes    []int
	workers  int
	manager  string
	poll     time.Duration
	timeout  time.Duration
	keepLogs bool
	// profile is a folder for CPU profiles of the manager and the apiserver during the
	// manager's run (none when empty), profileFor their length.
	profile    string
	profileFor time.Duration
	// managerArgs are extra flags of the manager, such as --concurrent-districtsource-reconciles.
	managerArgs []string
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func parseFlags() (options, error) {
	var o options
	sizes := flag.String("n", "1000,13300", "comma-separated numbers of DistrictSources, one run each")
	flag.IntVar(&o.workers, "workers", 64, "concurrent creates of the floor and of the manager's input")
	flag.StringVar(&o.manager, "manager", "", "districtlake binary; built with go build into a temporary folder when empty")
	flag.DurationVar(&o.poll, "poll", 2*time.Second, "how often the progress is logged")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long the manager may take to make one size Ready")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the temporary folder with the manager's logs")
	flag.StringVar(&o.profile, "profile", "", "folder for CPU profiles of the manager and the apiserver, taken from the first create of the manager's run (go tool pprof reads them)")
	flag.DurationVar(&o.profileFor, "profile-for", 15*time.Second, "length of the CPU profiles")
	managerArgs := flag.String("manager-args", "", "extra flags of the manager, space-separated (e.g. --concurrent-districtsource-reconciles=16)")
	flag.Parse()
	o.managerArgs = strings.Fields(*managerArgs)
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-n %q: %q is not a positive number", *sizes, s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.workers < 1 {
		return o, fmt.Errorf("-workers %d: must be at least 1", o.workers)
	}
	return o, nil
}

// result is one row of the table.
type result struct {
	n     int
	floor time.Duration
	// floorCPU and managerCPU are the CPU time the whole run took during each timing (the
	// control plane's, this program's and the manager's): on a shared machine the wall
	// times follow the load, the CPU times much less.
	floorCPU, managerCPU time.Duration
	// floorStatus and floorStatusCPU are the floor's status writes, one per DistrictSource.
	floorStatus, floorStatusCPU time.Duration
	manager                     time.Duration
	reconciles                  float64
	peakRSS                     int64 // bytes
	cpu                         time.Duration
	requests                    map[string]float64 // the manager's, by verb
	children                    string
	resyncWrites                map[string]float64 // by verb and resource
	resyncTime                  time.Duration
	resyncRSS                   int64
}

func run(o options) error {
	crlog.SetLogger(logr.Discard())
	tmp, err := os.MkdirTemp("", "districtlake-scale-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder: %w", err)
	}
	if o.keepLogs {
		fmt.Fprintln(os.Stderr, "logs in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if o.manager == "" {
		o.manager = filepath.Join(tmp, "districtlake")
		logf("Building %s", o.manager)
		cmd := exec.Command("go", "build", "-o", o.manager, "./cmd/districtlake")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the manager: %w", err)
		}
	}
	var results []result
	for _, n := range o.sizes {
		r, err := runSize(o, tmp, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
		printTable(os.Stdout, results[len(results)-1:])
	}
	if len(results) > 1 {
		fmt.Println()
		printTable(os.Stdout, results)
	}
	return nil
}

// cluster is one envtest control plane and what the benchmark needs of it.
type cluster struct {
	env         *envtest.Environment
	client      client.Client
	http        *http.Client
	host        string
	kubeconfig  string
	managerBin  string
	managerArgs []string
	// own counts the benchmark's own API requests by verb, to tell them from the manager's.
	own *verbCounter
	// pprof is the profiling address of the last manager started with it.
	pprof string
}

// profile takes CPU profiles of the manager and of the apiserver at once, in the
// background, into o.profile; the returned function waits for them.
func (c *cluster) profile(ctx context.Context, m *manager, o options, n int) func() {
	if err := os.MkdirAll(o.profile, 0o755); err != nil {
		logf("Failed to create %s: %v", o.profile, err)
		return func() {}
	}
	secs := int(o.profileFor.Seconds())
	var wg sync.WaitGroup
	take := func(name string, client *http.Client, url string) {
		defer wg.Done()
		path := filepath.Join(o.profile, fmt.Sprintf("%s-%d.pprof", name, n))
		if err := fetchTo(ctx, client, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", url, secs), path); err != nil {
			logf("Failed to profile the %s: %v", name, err)
			return
		}
		logf("N=%d: %s CPU profile in %s", n, name, path)
	}
	wg.Add(2)
	// The manager serves pprof once it has started: wait for it.
	go func() {
		for range 50 {
			if resp, err := http.Get(c.pprof + "/debug/pprof/"); err == nil {
				resp.Body.Close()
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		take("manager", http.DefaultClient, c.pprof)
	}()
	go take("apiserver", c.http, c.host)
	return wg.Wait
}

// fetchTo writes the body of a GET of url to path.
func fetchTo(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runSize(o options, tmp string, n int) (result, error) {
	r := result{n: n}
	c, err := startCluster(tmp, n)
	if err != nil {
		return r, err
	}
	c.managerBin, c.managerArgs = o.manager, o.managerArgs
	defer func() {
		if err := c.env.Stop(); err != nil {
			logf("Failed to stop envtest: %v", err)
		}
	}()
	ctx := context.Background()

	logf("N=%d: floor (load average %s)", n, loadAverage())
	ft, err := c.floor(ctx, n, o.workers)
	if err != nil {
		return r, err
	}
	r.floor, r.floorCPU, r.floorStatus, r.floorStatusCPU = ft.took, ft.cpu, ft.status, ft.statusCPU
	logf("N=%d: floor took %s, then its status writes %s (load average %s)", n, r.floor.Round(time.Millisecond),
		r.floorStatus.Round(time.Millisecond), loadAverage())

	ns := fmt.Sprintf("managed-%d", n)
	m, err := c.startManager(tmp, fmt.Sprintf("%d-a", n), o.profile != "")
	if err != nil {
		return r, err
	}
	if o.profile != "" {
		stop := c.profile(ctx, m, o, n)
		defer stop()
	}
	before, err := c.requests(ctx)
	if err != nil {
		m.stop()
		return r, err
	}
	c.own.reset()
	r.manager, r.managerCPU, err = c.managed(ctx, ns, n, o)
	if err != nil {
		m.stop()
		return r, err
	}
	r.reconciles, _ = m.reconciles()
	// The children are checked after the timing, once.
	after, err := c.requests(ctx)
	if err != nil {
		m.stop()
		return r, err
	}
	d := diff(after, before)
	logf("N=%d: API requests by verb and resource (the benchmark's own included): %s", n, detail(d))
	r.requests = byVerb(d, c.own.snapshot())
	r.peakRSS, r.cpu = m.usage()
	r.children, err = c.children(ctx, ns, n)
	if err != nil {
		m.stop()
		return r, err
	}
	m.stop()

	logf("N=%d: resync (manager restarted over %d unchanged DistrictSources)", n, n)
	r.resyncWrites, r.resyncTime, r.resyncRSS, err = c.resync(ctx, tmp, n, o.timeout)
	return r, err
}

func startCluster(tmp string, n int) (*cluster, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set (kube-apiserver and etcd, e.g. bin/k8s)")
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	env := &envtest.Environment{
		Scheme:                   scheme,
		CRDDirectoryPaths:        []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	logf("N=%d: starting envtest from %s", n, assets)
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := newCluster(env, cfg, scheme, tmp, n)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return c, nil
}

func newCluster(env *envtest.Environment, cfg *rest.Config, scheme *runtime.Scheme, tmp string, n int) (*cluster, error) {
	c := &cluster{env: env, host: strings.TrimSuffix(cfg.Host, "/"), own: &verbCounter{}}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling: the floor is the server's
	cfg.WrapTransport = c.own.wrap
	var err error
	if c.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	if c.http, err = rest.HTTPClientFor(cfg); err != nil {
		return nil, fmt.Errorf("creating HTTP client: %w", err)
	}
	user, err := env.AddUser(envtest.User{Name: "districtlake-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the manager's user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("writing the manager's kubeconfig: %w", err)
	}
	c.kubeconfig = filepath.Join(tmp, fmt.Sprintf("kubeconfig-%d", n))
	if err := os.WriteFile(c.kubeconfig, kc, 0o600); err != nil {
		return nil, fmt.Errorf("writing the manager's kubeconfig: %w", err)
	}
	return c, nil
}

// floor creates N DistrictSources, N plan-like ConfigMaps and N CronJobs in a namespace of
// their own with the given number of workers and returns how long that took and the CPU
// time of the whole run meanwhile. It then writes each DistrictSource's first status as the
// manager writes it (one merge patch: Ready=True, observedGeneration, schedule), timed on
// its own: floor plus status is what a manager that costs nothing itself would take, the
// bound of the ratio. It deletes them afterwards (not timed), so that the manager does not
// reconcile them.
func (c *cluster) floor(ctx context.Context, n, workers int) (floorTimes, error) {
	var t floorTimes
	ns := fmt.Sprintf("floor-%d", n)
	if err := c.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return t, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	dss := make([]*v1alpha1.DistrictSource, n)
	start, cpu0 := time.Now(), treeCPU()
	err := parallel(3*n, workers, func(i int) error {
		name := dsName(i / 3)
		switch i % 3 {
		case 0:
			dss[i/3] = districtSource(ns, name)
			return c.client.Create(ctx, dss[i/3])
		case 1:
			return c.client.Create(ctx, planConfigMap(ns, name))
		default:
			return c.client.Create(ctx, cronJob(ns, name))
		}
	})
	t.took, t.cpu = time.Since(start), treeCPU()-cpu0
	if err != nil {
		return t, fmt.Errorf("floor: %w", err)
	}
	start, cpu0 = time.Now(), treeCPU()
	err = parallel(n, workers, func(i int) error {
		return c.writeFirstStatus(ctx, dss[i])
	})
	t.status, t.statusCPU = time.Since(start), treeCPU()-cpu0
	if err != nil {
		return t, fmt.Errorf("floor status: %w", err)
	}
	for _, obj := range []client.Object{&v1alpha1.DistrictSource{}, &corev1.ConfigMap{}, &batchv1.CronJob{}} {
		if err := c.deleteAll(ctx, obj, ns); err != nil {
			return t, err
		}
	}
	return t, nil
}

// floorTimes are the floor's wall and CPU times: the creates, then the status writes.
type floorTimes struct {
	took, cpu, status, statusCPU time.Duration
}

// writeFirstStatus patches ds's status as a manager's first reconcile does: one merge patch
// of the conditions, observedGeneration and the schedule.
func (c *cluster) writeFirstStatus(ctx context.Context, ds *v1alpha1.DistrictSource) error {
	base := client.MergeFrom(ds.DeepCopy())
	ds.Status.ObservedGeneration = ds.Generation
	ds.Status.Schedule = "17 3 * * 1"
	ds.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonNeverRun, Message: "Plan and CronJob are up to date; no run has finished yet",
		ObservedGeneration: ds.Generation, LastTransitionTime: metav1.Now()}}
	return c.client.Status().Patch(ctx, ds, base)
}

// deleteAll deletes every object of obj's kind in ns with DELETE collection requests,
// sending another while one fails: on a loaded machine the server runs out of time on a
// large collection (it goes on deleting) or resets the stream.
func (c *cluster) deleteAll(ctx context.Context, obj client.Object, ns string) error {
	for attempt := 1; ; attempt++ {
		err := c.client.DeleteAllOf(ctx, obj, client.InNamespace(ns))
		if err == nil {
			return nil
		}
		if attempt == 20 {
			return fmt.Errorf("deleting the floor's %T: %w", obj, err)
		}
		logf("Failed to delete the floor's %T (attempt %d), again: %v", obj, attempt, err)
		time.Sleep(time.Second)
	}
}

// managed creates the Lake and its Secret in ns, waits until the manager has written the
// Lake's status (its caches are synced and its controllers run, as a manager in service
// would be when DistrictSources are applied), then creates N DistrictSources and returns
// the time and the CPU time from the first create until every one is Ready=True. It follows
// the Ready column through a watch of the DistrictSources as a Table (one row per change,
// converted by the apiserver), which sees the last one turn Ready when it does; a List of
// every row every few seconds would cost the apiserver more at 13,300 and overshoot by up
// to its period.
func (c *cluster) managed(ctx context.Context, ns string, n int, o options) (took, cpu time.Duration, err error) {
	if err := c.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return 0, 0, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	if err := c.client.Create(ctx, lakeSecret(ns)); err != nil {
		return 0, 0, fmt.Errorf("creating the Lake's Secret: %w", err)
	}
	if err := c.client.Create(ctx, lake(ns)); err != nil {
		return 0, 0, fmt.Errorf("creating the Lake: %w", err)
	}
	if err := c.waitLakeStatus(ctx, ns, o.timeout); err != nil {
		return 0, 0, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	counts := make(chan readyCounts, 1)
	watchErr := make(chan error, 1)
	go func() { watchErr <- c.watchReady(wctx, ns, counts) }()

	logf("N=%d: creating %d DistrictSources for the manager (load average %s)", n, n, loadAverage())
	start, cpu0 := time.Now(), treeCPU()
	created := make(chan error, 1)
	go func() {
		created <- parallel(n, o.workers, func(i int) error { return c.client.Create(ctx, districtSource(ns, dsName(i))) })
	}()
	deadline := time.After(o.timeout)
	progress := time.NewTicker(o.poll)
	defer progress.Stop()
	var now readyCounts
	createDone := false
	for {
		select {
		case err := <-created:
			if err != nil {
				return 0, 0, fmt.Errorf("creating DistrictSources: %w", err)
			}
			createDone = true
			logf("N=%d: created %d DistrictSources in %s", n, n, time.Since(start).Round(time.Millisecond))
		case now = <-counts:
		case err := <-watchErr:
			return 0, 0, fmt.Errorf("watching DistrictSources: %w", err)
		case <-progress.C:
			logf("N=%d: %d/%d Ready after %s", n, now.ready, now.total, time.Since(start).Round(time.Second))
		case <-deadline:
			return 0, 0, fmt.Errorf("only %d of %d DistrictSources Ready after %s", now.ready, n, o.timeout)
		}
		if createDone && now.ready == n && now.total == n {
			took, cpu := time.Since(start), treeCPU()-cpu0
			logf("N=%d: all Ready after %s (load average %s)", n, took.Round(time.Millisecond), loadAverage())
			return took, cpu, nil
		}
	}
}

// waitLakeStatus waits until the Lake of ns has a condition, which the manager writes.
func (c *cluster) waitLakeStatus(ctx context.Context, ns string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l := &v1alpha1.Lake{}
		if err := c.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: lakeName}, l); err != nil {
			return fmt.Errorf("reading the Lake: %w", err)
		}
		if len(l.Status.Conditions) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the manager wrote no Lake status in %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyCounts are how many DistrictSources there are and how many are Ready.
type readyCounts struct{ ready, total int }

// readySet is the Ready column by DistrictSource name, with its count of Ready rows kept
// as rows change: counting the whole map after each of the 2N events took O(N) each.
type readySet struct {
	rows  map[string]bool
	ready int
}

func newReadySet() *readySet { return &readySet{rows: map[string]bool{}} }

func (s *readySet) set(name string, ready bool) {
	if s.rows[name] {
		s.ready--
	}
	s.rows[name] = ready
	if ready {
		s.ready++
	}
}

func (s *readySet) remove(name string) {
	if s.rows[name] {
		s.ready--
	}
	delete(s.rows, name)
}

func (s *readySet) counts() readyCounts { return readyCounts{ready: s.ready, total: len(s.rows)} }

// watchReady follows the DistrictSources of ns as Table rows (their printer columns
// only): a List, then a watch from the List's resourceVersion, again after a watch ends
// (the apiserver closes the watch of a consumer that falls behind). It sends the counts
// after each List and event, the newest replacing one not yet read.
func (c *cluster) watchReady(ctx context.Context, ns string, out chan readyCounts) error {
	var cols tableColumns
	for ctx.Err() == nil {
		ready := newReadySet()
		rv, err := c.listTable(ctx, ns, &cols, ready)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		send(out, ready)
		if err := c.watchTable(ctx, ns, rv, &cols, ready, out); err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// tableColumns are the indexes of the Name and Ready columns of the DistrictSources table.
type tableColumns struct{ name, ready int }

// learn reads the column indexes from a Table that has its column definitions (a List, or
// the first event of a watch).
func (t *tableColumns) learn(defs []metav1.TableColumnDefinition) error {
	if len(defs) == 0 {
		return nil
	}
	t.name, t.ready = -1, -1
	for i, d := range defs {
		switch d.Name {
		case "Name":
			t.name = i
		case "Ready":
			t.ready = i
		}
	}
	if t.name < 0 || t.ready < 0 {
		return errors.New("the DistrictSources table has no Name or Ready column")
	}
	return nil
}

// apply records the rows of a Table in ready (deleted ones removed).
func (t *tableColumns) apply(rows []metav1.TableRow, deleted bool, ready *readySet) {
	for _, row := range rows {
		if len(row.Cells) <= max(t.name, t.ready) {
			continue
		}
		name, _ := row.Cells[t.name].(string)
		if deleted {
			ready.remove(name)
			continue
		}
		ready.set(name, row.Cells[t.ready] == "True")
	}
}

func send(out chan readyCounts, ready *readySet) {
	select {
	case <-out:
	default:
	}
	out <- ready.counts()
}

// tableRequest GETs the DistrictSources of ns as a Table with the given query, rows without
// their objects (includeObject=None): the default embeds each row's object metadata, which
// made every event cost the apiserver more and the watch fall behind sooner.
func (c *cluster) tableRequest(ctx context.Context, ns, query string) (*http.Response, error) {
	url := fmt.Sprintf("%s/apis/districtlake.io/v1alpha1/namespaces/%s/districtsources?includeObject=None&%s", c.host, ns, query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return resp, nil
}

// listTable lists the rows into ready and returns the List's resourceVersion.
func (c *cluster) listTable(ctx context.Context, ns string, cols *tableColumns, ready *readySet) (string, error) {
	resp, err := c.tableRequest(ctx, ns, "resourceVersion=0")
	if err != nil {
		return "", fmt.Errorf("listing DistrictSources: %w", err)
	}
	defer resp.Body.Close()
	var t metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return "", fmt.Errorf("decoding the DistrictSources table: %w", err)
	}
	if err := cols.learn(t.ColumnDefinitions); err != nil {
		return "", err
	}
	cols.apply(t.Rows, false, ready)
	return t.ResourceVersion, nil
}

// tableEvent is one event of a Table watch.
type tableEvent struct {
	Type   string       `json:"type"`
	Object metav1.Table `json:"object"`
}

// watchTable applies the events of a watch from resourceVersion rv to ready until the
// apiserver ends it.
func (c *cluster) watchTable(ctx context.Context, ns, rv string, cols *tableColumns, ready *readySet, out chan readyCounts) error {
	resp, err := c.tableRequest(ctx, ns, "watch=1&allowWatchBookmarks=true&resourceVersion="+rv)
	if err != nil {
		return fmt.Errorf("watching DistrictSources: %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev tableEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("decoding a watch event: %w", err)
		}
		switch ev.Type {
		case "ERROR":
			return nil // such as an expired resourceVersion: list again
		case "BOOKMARK":
			continue
		}
		if err := cols.learn(ev.Object.ColumnDefinitions); err != nil {
			return err
		}
		cols.apply(ev.Object.Rows, ev.Type == "DELETED", ready)
		send(out, ready)
	}
}

// children counts the plan ConfigMaps and CronJobs the manager made in ns (metadata only).
func (c *cluster) children(ctx context.Context, ns string, n int) (string, error) {
	var counts []string
	ok := true
	for _, gvk := range []metav1.GroupVersionKind{
		{Version: "v1", Kind: "ConfigMapList"}, {Group: "batch", Version: "v1", Kind: "CronJobList"},
	} {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvkOf(gvk))
		if err := c.client.List(ctx, list, client.InNamespace(ns),
			client.MatchingLabels{"app.kubernetes.io/managed-by": "districtlake"}); err != nil {
			return "", fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		owned := 0
		for _, item := range list.Items {
			for _, ref := range item.OwnerReferences {
				if ref.Kind == "DistrictSource" && ref.Controller != nil && *ref.Controller {
					owned++
				}
			}
		}
		ok = ok && owned == n
		counts = append(counts, fmt.Sprintf("%d %s", owned, strings.TrimSuffix(gvk.Kind, "List")))
	}
	s := strings.Join(counts, ", ")
	if !ok {
		return s, fmt.Errorf("children: want %d of each, have %s", n, s)
	}
	return s, nil
}

// resync restarts the manager over the N unchanged DistrictSources, waits until it has
// reconciled each and its queue stays empty, and returns the write requests it sent by
// verb and resource.
func (c *cluster) resync(ctx context.Context, tmp string, n int, timeout time.Duration) (map[string]float64, time.Duration, int64, error) {
	before, err := c.requests(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	m, err := c.startManager(tmp, fmt.Sprintf("%d-b", n), false)
	if err != nil {
		return nil, 0, 0, err
	}
	defer m.stop()
	start := time.Now()
	if err := m.waitIdle(n, start.Add(timeout)); err != nil {
		return nil, 0, 0, err
	}
	took := time.Since(start)
	after, err := c.requests(ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	writes := map[string]float64{}
	for k, v := range diff(after, before) {
		if isWrite(k.verb) && v > 0 {
			writes[k.verb+" "+k.resource] += v
		}
	}
	rss, _ := m.usage()
	return writes, took, rss, nil
}

func isWrite(verb string) bool {
	switch verb {
	case "POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY", "CREATE", "UPDATE":
		return true
	}
	return false
}

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// manager is a running districtlake manager process.
type manager struct {
	cmd     *exec.Cmd
	metrics string
	done    chan struct{}
	log     *os.File
	// rss and cpu are the last figures read from /proc before the process ended.
	mu  sync.Mutex
	rss int64
	cpu time.Duration
}

func (c *cluster) startManager(tmp, tag string, pprof bool) (*manager, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	extra := c.managerArgs
	if pprof {
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		extra = append([]string{"--pprof-bind-address=127.0.0.1:" + pport}, extra...)
		c.pprof = "http://127.0.0.1:" + pport
	}
	logPath := filepath.Join(tmp, "manager-"+tag+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the manager's log: %w", err)
	}
	m := &manager{metrics: "http://127.0.0.1:" + port + "/metrics", done: make(chan struct{}), log: f}
	args := append([]string{"manager", "--metrics-bind-address=127.0.0.1:" + port, "--metrics-secure=false",
		"--health-probe-bind-address=0", "--zap-log-level=error"}, extra...)
	m.cmd = exec.Command(c.managerBin, args...)
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	m.cmd.Stdout, m.cmd.Stderr = f, f
	if err := m.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the manager: %w", err)
	}
	go func() {
		_ = m.cmd.Wait()
		close(m.done)
	}()
	go m.sample()
	return m, nil
}

// sample keeps the last /proc figures of the manager while it runs.
func (m *manager) sample() {
	for {
		rss, cpu, err := procUsage(m.cmd.Process.Pid)
		if err == nil {
			m.mu.Lock()
			m.rss, m.cpu = rss, cpu
			m.mu.Unlock()
		}
		select {
		case <-m.done:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// usage returns the manager's peak RSS and CPU time so far.
func (m *manager) usage() (int64, time.Duration) {
	if rss, cpu, err := procUsage(m.cmd.Process.Pid); err == nil {
		return rss, cpu
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rss, m.cpu
}

func (m *manager) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	m.log.Close()
}

// reconciles is the manager's controller_runtime_reconcile_total of the districtsource
// controller.
func (m *manager) reconciles() (float64, error) {
	s, err := m.scrape()
	if err != nil {
		return 0, err
	}
	return s.sum("controller_runtime_reconcile_total", `controller="districtsource"`), nil
}

// waitIdle waits until the districtsource controller has reconciled at least n times and
// its queue has stayed empty for a few seconds.
func (m *manager) waitIdle(n int, deadline time.Time) error {
	quiet := 0
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return errors.New("the manager exited; see its log")
		case <-time.After(time.Second):
		}
		s, err := m.scrape()
		if err != nil {
			continue // not serving yet
		}
		total := s.sum("controller_runtime_reconcile_total", `controller="districtsource"`)
		depth := s.sum("workqueue_depth", `name="districtsource"`)
		if total >= float64(n) && depth == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= 3 {
			return nil
		}
	}
	return fmt.Errorf("the manager did not settle over %d DistrictSources", n)
}

func (m *manager) scrape() (samples, error) {
	resp, err := http.Get(m.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return parseSamples(resp.Body)
}

// samples are Prometheus text-format lines: series (name{labels}) to value.
type samples map[string]float64

func parseSamples(r io.Reader) (samples, error) {
	s := samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s[line[:i]] = v
	}
	return s, sc.Err()
}

// sum adds the series of a metric whose labels contain label.
func (s samples) sum(name, label string) float64 {
	var t float64
	for k, v := range s {
		if strings.HasPrefix(k, name+"{") && strings.Contains(k, label) {
			t += v
		}
	}
	return t
}

// requestKey is one verb and resource of apiserver_request_total.
type requestKey struct{ verb, resource string }

// requests reads the apiserver's apiserver_request_total, summed by verb and resource
// (resource requests only, Leases left out).
func (c *cluster) requests(ctx context.Context) (map[requestKey]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.host+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the apiserver's metrics: %w", err)
	}
	defer resp.Body.Close()
	s, err := parseSamples(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the apiserver's metrics: %w", err)
	}
	out := map[requestKey]float64{}
	for k, v := range s {
		if !strings.HasPrefix(k, "apiserver_request_total{") {
			continue
		}
		res := label(k, "resource")
		// Leases are the apiserver's own identity Leases (renewed every 10 s); the manager
		// runs without leader election and takes none.
		if res == "" || res == "leases" {
			continue
		}
		if sub := label(k, "subresource"); sub != "" {
			res += "/" + sub
		}
		out[requestKey{label(k, "verb"), res}] += v
	}
	return out, nil
}

// label returns the value of a label in a series name{a="b",...}.
func label(series, name string) string {
	i := strings.Index(series, ","+name+`="`)
	if i < 0 {
		i = strings.Index(series, "{"+name+`="`)
	}
	if i < 0 {
		return ""
	}
	rest := series[i+len(name)+3:]
	return rest[:strings.IndexByte(rest, '"')]
}

// detail lists requests as "VERB resource=count", sorted.
func detail(d map[requestKey]float64) string {
	m := map[string]float64{}
	for k, v := range d {
		m[k.verb+" "+k.resource] = v
	}
	return verbs(m)
}

func diff(after, before map[requestKey]float64) map[requestKey]float64 {
	d := map[requestKey]float64{}
	for k, v := range after {
		if x := v - before[k]; x != 0 {
			d[k] = x
		}
	}
	return d
}

// byVerb sums requests by verb and takes away the benchmark's own.
func byVerb(d map[requestKey]float64, own map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range d {
		out[k.verb] += v
	}
	for verb, v := range own {
		out[verb] -= v
	}
	for verb, v := range out {
		if v <= 0 {
			delete(out, verb)
		}
	}
	return out
}

// verbCounter counts the benchmark's own resource requests by the apiserver's verb.
type verbCounter struct {
	mu     sync.Mutex
	counts map[string]float64
}

func (v *verbCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if verb := apiVerb(req); verb != "" {
			v.mu.Lock()
			if v.counts == nil {
				v.counts = map[string]float64{}
			}
			v.counts[verb]++
			v.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (v *verbCounter) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.counts = nil
}

func (v *verbCounter) snapshot() map[string]float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[string]float64{}
	for k, x := range v.counts {
		out[k] = x
	}
	return out
}

// apiVerb is the apiserver's verb label of a request of the benchmark, or "" for a
// non-resource request such as /metrics.
func apiVerb(req *http.Request) string {
	if !strings.HasPrefix(req.URL.Path, "/api/") && !strings.HasPrefix(req.URL.Path, "/apis/") {
		return ""
	}
	switch req.Method {
	case http.MethodGet:
		if req.URL.Query().Get("watch") != "" {
			return "WATCH"
		}
		if namedObject(req.URL.Path) {
			return "GET"
		}
		return "LIST"
	case http.MethodDelete:
		return "DELETECOLLECTION"
	default:
		return req.Method
	}
}

// namedObject says whether a resource path names one object (.../namespaces/NS/RES/NAME,
// or a namespace) rather than a collection.
func namedObject(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "namespaces" {
			rest := len(parts) - i - 1
			return rest == 1 || rest >= 3
		}
	}
	return false
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// procUsage reads a process's peak RSS (VmHWM) and CPU time (utime+stime) from /proc.
func procUsage(pid int) (int64, time.Duration, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var rss int64
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			rss = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command (in parentheses, which may hold spaces): utime and stime are
	// fields 14 and 15 of the line, 12 and 13 after ") ".
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return rss, time.Duration(ut+st) * time.Second / clockTicks, nil
}

// treeCPU is the CPU time so far of this process and of its children that run now
// (kube-apiserver, etcd, the manager).
func treeCPU() time.Duration {
	self := os.Getpid()
	_, total, _ := procUsage(self)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue // field 4, the parent
		}
		if _, cpu, err := procUsage(pid); err == nil {
			total += cpu
		}
	}
	return total
}

// loadAverage is the machine's 1, 5 and 15 minute load averages (/proc/loadavg): the
// benchmark shares the machine, and its wall times follow the load.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tfloor s\tmanager s\tratio\tall CPU s (floor/manager)\tCPU ratio\tfloor+status s (bound)\treconciles/s\tpeak RSS MiB\tCPU s\tmanager requests\tchildren\tresync s\tresync writes")
	for _, r := range rs {
		withStatus := r.floor + r.floorStatus
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.2f\t%.1f/%.1f\t%.2f\t%.1f (%.2fx)\t%.0f\t%.0f\t%.1f\t%s\t%s\t%.1f\t%s\n",
			r.n, r.floor.Seconds(), r.manager.Seconds(), r.manager.Seconds()/r.floor.Seconds(),
			r.floorCPU.Seconds(), r.managerCPU.Seconds(), r.managerCPU.Seconds()/r.floorCPU.Seconds(),
			withStatus.Seconds(), withStatus.Seconds()/r.floor.Seconds(),
			r.reconciles/r.manager.Seconds(), float64(r.peakRSS)/(1<<20), r.cpu.Seconds(),
			verbs(r.requests), r.children, r.resyncTime.Seconds(), writes(r.resyncWrites))
	}
	tw.Flush()
}

func verbs(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func writes(m map[string]float64) string {
	if len(m) == 0 {
		return "0"
	}
	var total float64
	for _, v := range m {
		total += v
	}
	return fmt.Sprintf("%.0f (%s)", total, verbs(m))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}
