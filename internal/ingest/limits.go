package ingest

// Limits bound the memory one source can take, whatever its bytes: each is a cap on one
// shape of input, and input past a cap is an error naming the source, row and column. A
// zero field takes its default (see DefaultLimits).
type Limits struct {
	// FieldsPerRecord caps the fields of one CSV record (the header included).
	FieldsPerRecord int
	// CellBytes caps one cell: a CSV field, a JSON value, a Parquet value.
	CellBytes int
	// RecordBytes caps one CSV record or NDJSON line.
	RecordBytes int
	// JSONDepth caps the nesting of objects and arrays inside one JSON row.
	JSONDepth int
	// ObjectBytes caps one JSON object (one row of a json or ndjson source).
	ObjectBytes int
	// ParquetBatchBytes caps the decoded bytes of the selected columns of one Parquet
	// batch: rows are read in batches small enough to fit, and a row group whose
	// column would not fit on its own is an error.
	ParquetBatchBytes int64
	// KeysInMemory is how many row keys the duplicate check holds before it moves them to
	// sorted runs in the temporary folder (40 bytes a key at most: 20 MiB by default; a
	// source of more rows pays a sort and a merge, about half a microsecond a row).
	KeysInMemory int
}

// DefaultLimits are the limits a run uses unless Options.Limits sets one.
func DefaultLimits() Limits {
	return Limits{
		FieldsPerRecord:   10_000,
		CellBytes:         1 << 20,
		RecordBytes:       16 << 20,
		JSONDepth:         64,
		ObjectBytes:       16 << 20,
		ParquetBatchBytes: 64 << 20,
		KeysInMemory:      1 << 19,
	}
}

// withDefaults fills the zero fields of l with the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.FieldsPerRecord <= 0 {
		l.FieldsPerRecord = d.FieldsPerRecord
	}
	if l.CellBytes <= 0 {
		l.CellBytes = d.CellBytes
	}
	if l.RecordBytes <= 0 {
		l.RecordBytes = d.RecordBytes
	}
	if l.JSONDepth <= 0 {
		l.JSONDepth = d.JSONDepth
	}
	if l.ObjectBytes <= 0 {
		l.ObjectBytes = d.ObjectBytes
	}
	if l.ParquetBatchBytes <= 0 {
		l.ParquetBatchBytes = d.ParquetBatchBytes
	}
	if l.KeysInMemory <= 0 {
		l.KeysInMemory = d.KeysInMemory
	}
	return l
}
