// Package controller holds the districtlake operator's reconcilers: DistrictSource and
// StateComparison (each rendered into an owned plan ConfigMap and CronJob, with run-now Jobs
// and run results read back from the Jobs' termination messages) and Lake (a real bucket
// check with the referenced credentials).
package controller
