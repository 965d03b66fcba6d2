package cli

import (
	goflag "flag"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/districtlake/districtlake/api/v1alpha1"
	"github.com/districtlake/districtlake/internal/controller"
	"github.com/districtlake/districtlake/internal/guard"
	"github.com/districtlake/districtlake/internal/lake"
)

// managerFlags are the manager subcommand's flags.
type managerFlags struct {
	metricsAddr   string
	metricsSecure bool
	probeAddr     string
	pprofAddr     string
	leaderElect   bool
	leaderElectNS string
	jobImage      string
	jobPullPolicy string
	allowedImages string
	watchNS       string
	jobQueueName  string
	jobResources  jobResourceFlags
	workers       controller.Workers
	qps           float32
	burst         int
	gcPercent     int
	zap           zap.Options
	egress        egressFlags
}

func newManagerCommand() *cobra.Command {
	f := &managerFlags{zap: zap.Options{}}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the operator's controller manager",
		Long: "Run the districtlake controllers: DistrictSource and StateComparison (plan ConfigMaps,\n" +
			"CronJobs, run-now Jobs, run results) and Lake (bucket checks).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runManager(cmd, f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", `address the metrics endpoint binds to; "0" disables it`)
	fs.BoolVar(&f.metricsSecure, "metrics-secure", true, "serve metrics over HTTPS, only to clients whose token may get /metrics (TokenReview and SubjectAccessReview); false serves plain HTTP to anyone")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address the health and ready probes bind to")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "0", `address Go's profiling endpoints (/debug/pprof/) bind to, plain HTTP to anyone; "0" disables them`)
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader so that only one manager replica is active")
	fs.StringVar(&f.leaderElectNS, "leader-election-namespace", "", "namespace of the leader election Lease; the manager's own namespace when empty (required outside a cluster)")
	fs.StringVar(&f.jobImage, "job-image", controller.DefaultJobImage, "image of the ingest and compare Jobs (a resource's spec.job.image overrides it only when --allowed-job-images allows it)")
	fs.StringVar(&f.allowedImages, "allowed-job-images", "", "comma-separated images a resource's spec.job.image may name: exact references, or prefixes ending in '*' (\"registry.example/districtlake:*\"); empty allows none, and a resource naming another image stalls with reason ImageNotAllowed")
	fs.StringVar(&f.jobPullPolicy, "job-image-pull-policy", string(corev1.PullIfNotPresent), "image pull policy of the Jobs: Always, IfNotPresent or Never")
	fs.StringVar(&f.watchNS, "watch-namespaces", "", "comma-separated namespaces whose Lakes, DistrictSources and StateComparisons the manager watches and acts on (it reads and writes nothing elsewhere, so namespaced Roles suffice); empty: all namespaces")
	fs.StringVar(&f.jobQueueName, "job-queue-name", "", "Kueue LocalQueue the Jobs are submitted to (created suspended, labelled kueue.x-k8s.io/queue-name); a resource's spec.job.queueName overrides it; empty: no queue")
	fs.StringVar(&f.jobResources.cpuRequest, "job-cpu-request", "100m", "CPU request of the Jobs unless a resource sets spec.job.resources; empty: none")
	fs.StringVar(&f.jobResources.memoryRequest, "job-memory-request", "256Mi", "memory request of the Jobs unless a resource sets spec.job.resources; empty: none")
	fs.StringVar(&f.jobResources.cpuLimit, "job-cpu-limit", "", "CPU limit of the Jobs unless a resource sets spec.job.resources; empty: none")
	fs.StringVar(&f.jobResources.memoryLimit, "job-memory-limit", "512Mi", "memory limit of the Jobs unless a resource sets spec.job.resources; empty: none")
	fs.StringVar(&f.jobResources.tmpSizeLimit, "job-tmp-size-limit", "2Gi", "size limit of the Jobs' /tmp emptyDir (Parquet spools, spilled row keys); empty: none")
	def := controller.DefaultWorkers()
	fs.IntVar(&f.workers.DistrictSource, "concurrent-districtsource-reconciles", def.DistrictSource, "how many DistrictSources are reconciled at once")
	fs.IntVar(&f.workers.StateComparison, "concurrent-statecomparison-reconciles", def.StateComparison, "how many StateComparisons are reconciled at once")
	fs.IntVar(&f.workers.Lake, "concurrent-lake-reconciles", def.Lake, "how many Lakes are checked at once")
	fs.Float32Var(&f.qps, "kube-api-qps", 0, "queries per second to the API server; 0 leaves client-side throttling off, so that the server's API Priority and Fairness limits the manager")
	fs.IntVar(&f.burst, "kube-api-burst", 0, "burst of queries to the API server above --kube-api-qps; 0 is client-go's default (10) when --kube-api-qps is set")
	fs.IntVar(&f.gcPercent, "gc-percent", managerGCPercent, "how far (percent) the Go heap grows over its live data, mostly the cache, before a garbage collection (Go's GOGC, which wins when set); lower it to trade CPU for memory")
	f.egress.bind(fs, false, "the ingest Jobs' http and s3 sources and the Lake checks")
	gofs := goflag.NewFlagSet("zap", goflag.ContinueOnError)
	f.zap.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	return cmd
}

// The manager authenticates and authorizes metrics clients through the API server.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsOptions serves metrics on the flags' address: over HTTPS (a self-signed
// certificate) behind controller-runtime's authentication and authorization filter when
// --metrics-secure, as the kubebuilder scaffold does, else plain HTTP.
func metricsOptions(f *managerFlags) metricsserver.Options {
	o := metricsserver.Options{BindAddress: f.metricsAddr}
	if f.metricsSecure {
		o.SecureServing = true
		o.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return o
}

func runManager(cmd *cobra.Command, f *managerFlags) error {
	pull := corev1.PullPolicy(f.jobPullPolicy)
	switch pull {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return fmt.Errorf("--job-image-pull-policy %q is not Always, IfNotPresent or Never", f.jobPullPolicy)
	}
	if err := checkWorkers(f.workers); err != nil {
		return err
	}
	if err := checkGCPercent(f.gcPercent); err != nil {
		return err
	}
	allowed, err := guard.ParseJobImages(f.allowedImages)
	if err != nil {
		return fmt.Errorf("--allowed-job-images: %w", err)
	}
	watch, err := parseNamespaces(f.watchNS)
	if err != nil {
		return err
	}
	egressPolicy := f.egress.policy()
	if err := egressPolicy.Validate(); err != nil {
		return err
	}
	resources, tmpLimit, err := f.jobResources.parse()
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	log := ctrl.Log.WithName("setup")
	applyGCPercent(f.gcPercent)

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building scheme: %w", err)
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("finding the cluster: %w", err)
	}
	if f.qps > 0 {
		cfg.QPS = f.qps
		cfg.Burst = f.burst
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   controller.CacheOptions(watch),
		Metrics:                 metricsOptions(f),
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "districtlake.io",
		LeaderElectionNamespace: f.leaderElectNS,
		// The process exits as soon as the manager stops, so the Lease can be handed over
		// at once instead of after its duration.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	if err := controller.Setup(mgr, controller.Options{
		JobImage:           f.jobImage,
		JobImagePullPolicy: pull,
		AllowedJobImages:   allowed,
		Registerer:         metrics.Registry,
		Checker:            controller.BucketCheckFunc(lake.CheckBucketUnder(egressPolicy)),
		AbortRules:         controller.AbortRuleCheckFunc(lake.CheckAbortRuleUnder(egressPolicy)),
		Egress:             egressPolicy,
		Workers:            f.workers,
		JobQueueName:       f.jobQueueName,
		JobResources:       resources,
		JobTmpSizeLimit:    tmpLimit,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	log.Info("Starting manager", "jobImage", f.jobImage, "allowedJobImages", allowed.String(), "watchNamespaces", f.watchNS, "leaderElect", f.leaderElect, "metricsSecure", f.metricsSecure,
		"districtSourceWorkers", f.workers.DistrictSource, "egress", egressPolicy.String(), "kubeAPIQPS", cfg.QPS, "kubeAPIBurst", cfg.Burst,
		"gcPercent", f.gcPercent, "GOGC", os.Getenv("GOGC"))
	if err := mgr.Start(cmd.Context()); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	return nil
}

// managerGCPercent is the manager's default --gc-percent. Its live heap is its cache,
// about 175 MB at 13,300 DistrictSources (issue 13); at Go's default of 100 the heap grew
// to twice that between collections and the peak RSS passed 400 MiB on a loaded machine
// (402 to 461 MiB); at 50 it was 350 MiB, with no more manager CPU measurable.
const managerGCPercent = 50

// checkWorkers refuses a concurrency below one.
func checkWorkers(w controller.Workers) error {
	for flag, n := range map[string]int{
		"--concurrent-districtsource-reconciles":  w.DistrictSource,
		"--concurrent-statecomparison-reconciles": w.StateComparison,
		"--concurrent-lake-reconciles":            w.Lake,
	} {
		if n < 1 {
			return fmt.Errorf("%s is %d; it must be at least 1", flag, n)
		}
	}
	return nil
}

// parseNamespaces reads --watch-namespaces: comma-separated namespace names, spaces and empty
// entries ignored; nil (all namespaces) when there is none.
func parseNamespaces(s string) ([]string, error) {
	var out []string
	for _, ns := range strings.Split(s, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		out = append(out, ns)
	}
	return out, nil
}

// jobResourceFlags are the Jobs' default requests and limits and their /tmp size limit.
type jobResourceFlags struct {
	cpuRequest, memoryRequest, cpuLimit, memoryLimit, tmpSizeLimit string
}

// parse turns the flags into resource requirements and a size limit (nil when empty).
func (j jobResourceFlags) parse() (corev1.ResourceRequirements, *resource.Quantity, error) {
	var rr corev1.ResourceRequirements
	for _, q := range []struct {
		flag, value string
		list        *corev1.ResourceList
		name        corev1.ResourceName
	}{
		{"job-cpu-request", j.cpuRequest, &rr.Requests, corev1.ResourceCPU},
		{"job-memory-request", j.memoryRequest, &rr.Requests, corev1.ResourceMemory},
		{"job-cpu-limit", j.cpuLimit, &rr.Limits, corev1.ResourceCPU},
		{"job-memory-limit", j.memoryLimit, &rr.Limits, corev1.ResourceMemory},
	} {
		if q.value == "" {
			continue
		}
		v, err := resource.ParseQuantity(q.value)
		if err != nil {
			return rr, nil, fmt.Errorf("--%s %q is not a quantity: %w", q.flag, q.value, err)
		}
		if *q.list == nil {
			*q.list = corev1.ResourceList{}
		}
		(*q.list)[q.name] = v
	}
	if j.tmpSizeLimit == "" {
		return rr, nil, nil
	}
	v, err := resource.ParseQuantity(j.tmpSizeLimit)
	if err != nil {
		return rr, nil, fmt.Errorf("--job-tmp-size-limit %q is not a quantity: %w", j.tmpSizeLimit, err)
	}
	return rr, &v, nil
}
