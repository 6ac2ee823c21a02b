//go:build chaos

package properties_test

const chaosBuild = true
