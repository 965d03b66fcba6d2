package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Name limits of the children. A CronJob's name is cut to 52 characters because the Jobs it
// creates add 11; a Job's name becomes a label value on its Pods, so it is cut to 63.
const (
	maxCronJobName   = 52
	maxJobName       = 63
	maxConfigMapName = 253
	maxVolumeName    = 63
)

// planKey is the ConfigMap key holding the run plan; planDir is where it is mounted.
const (
	planKey  = "plan.json"
	planDir  = "/etc/districtlake"
	planPath = planDir + "/" + planKey
)

// shortHash is the first 10 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// childName returns base+suffix when it fits in limit characters. Otherwise it cuts base and
// adds a short hash of the full name, so that distinct long names stay distinct.
func childName(base, suffix string, limit int) string {
	name := base + suffix
	if len(name) <= limit {
		return name
	}
	h := shortHash(name)
	keep := limit - len(suffix) - len(h) - 1
	if keep > len(base) {
		keep = len(base)
	}
	cut := strings.TrimRight(base[:max(keep, 0)], "-.")
	if cut == "" {
		return strings.TrimLeft(h+suffix, "-")
	}
	return cut + "-" + h + suffix
}

// planConfigMapName is the name of an owner's plan ConfigMap.
func planConfigMapName(owner string) string { return childName(owner, "-plan", maxConfigMapName) }

// cronJobName is the name of an owner's CronJob.
func cronJobName(owner string) string { return childName(owner, "", maxCronJobName) }

// runNowJobName is the name of the one Job started for a run-now annotation value.
func runNowJobName(owner, value string) string {
	return childName(owner, "-now-"+shortHash(value), maxJobName)
}

// volumeName keeps a pod volume name within the DNS-label limit.
func volumeName(name string) string { return childName(name, "", maxVolumeName) }

// rerunJobName is the name of the one re-run Job of a district on the given revisions.
func rerunJobName(owner, revisions string) string {
	return childName(owner, "-rerun-"+shortHash(revisions), maxJobName)
}
