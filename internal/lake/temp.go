package lake

// TempPrefix starts the names of the files a file lake is writing (renamed into place when
// complete); a run killed mid-write leaves them behind.
const TempPrefix = tempPrefix
