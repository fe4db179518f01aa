package secret

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// File resolves file:PATH to the file's contents with trailing newlines trimmed (editors and
// `echo` add one). A relative PATH is relative to the working directory. A file whose permissions
// are wider than 0600 still resolves, with a warning on the Value: refusing it would break
// mounted secrets (Kubernetes, Docker) whose modes the user does not pick.
type File struct{}

// Resolve implements Resolver.
func (File) Resolve(_ context.Context, path string) (Value, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Value{}, pathErr(err)
	}
	if fi.IsDir() {
		return Value{}, errors.New("is a directory, want a file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Value{}, pathErr(err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return Value{}, errors.New("file is empty")
	}
	v := New(s)
	if perm := fi.Mode().Perm(); perm&^0o600 != 0 {
		v = v.WithWarning(fmt.Sprintf("file mode %04o is wider than 0600; run chmod 600 on it", perm))
	}
	return v, nil
}

// pathErr drops the *PathError wrapper: Error already names the reference, which holds the path.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
