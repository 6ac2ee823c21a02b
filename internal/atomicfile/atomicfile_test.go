package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nimsync/nimsync/internal/atomicfile"
	"github.com/stretchr/testify/require"
)

func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, atomicfile.WriteAll(dir, []atomicfile.File{{Name: "a", Data: []byte("1")}, {Name: "b", Data: []byte("2")}}))
	b, err := os.ReadFile(filepath.Join(dir, "b"))
	require.NoError(t, err)
	require.Equal(t, "2", string(b))
}

// TestWriteAllOrNone: when one file cannot be placed (a directory stands in
// its way), none is left, temporary files included, and a directory the
// call created is removed.
func TestWriteAllOrNone(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "b", "x"), 0o755))
	err := atomicfile.WriteAll(dir, []atomicfile.File{{Name: "a", Data: []byte("1")}, {Name: "b", Data: []byte("2")}})
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the directory that was in the way")

	fresh := filepath.Join(t.TempDir(), "new")
	require.Error(t, atomicfile.WriteAll(fresh, []atomicfile.File{{Name: "sub/a", Data: nil}}))
	_, err = os.Stat(fresh)
	require.True(t, os.IsNotExist(err), "the directory the call created is removed")
}
