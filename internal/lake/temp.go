package lake

// TempPrefix starts the names of the files a file lake is writing (renamed into place when
// complete); a run killed mid-write leaves them behind.
const TempPrefix = tempPrefix

// LockDir is the folder under a file lake's root where local runs keep their lock files
// (package lakelock); List never shows it.
const LockDir = ".locks"
