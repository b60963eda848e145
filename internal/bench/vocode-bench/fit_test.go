package main

import (
	"math"
	"testing"
)

func TestFitLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xs, ys []float64
		want   line
		ok     bool
	}{
		{"exact", []float64{250, 500, 1000}, []float64{30 + 0.05*250, 30 + 0.05*500, 30 + 0.05*1000}, line{30, 0.05}, true},
		{"noise around a line", []float64{1, 1, 3, 3}, []float64{9, 11, 19, 21}, line{5, 5}, true},
		{"one x only", []float64{1000, 1000}, []float64{1, 2}, line{}, false},
		{"no points", nil, nil, line{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fitLine(tc.xs, tc.ys)
			if ok != tc.ok || math.Abs(got.slope-tc.want.slope) > 1e-9 || math.Abs(got.intercept-tc.want.intercept) > 1e-9 {
				t.Errorf("fitLine = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
