package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"executable", exe, ""},
		{"relative", "vocode_exporter", "not an absolute path"},
		{"missing", filepath.Join(dir, "missing"), "no such file"},
		{"not executable", plain, "not an executable file"},
		{"directory", dir, "not an executable file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBinary(tc.path)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("checkBinary(%s): %v", tc.path, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("checkBinary(%s) = %v, want an error saying %q", tc.path, err, tc.wantErr)
			case err != nil && !strings.Contains(err.Error(), BinaryEnv):
				t.Errorf("the error %q does not name %s", err, BinaryEnv)
			}
		})
	}
}
