package pod

import (
	"os"
	"strconv"
	"strings"
)

// processAlive tells whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z'
}

// isShim tells whether pid is the berth-shim serving socket (and not a
// process that got its pid after a reboot).
func isShim(pid int, socket string) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(data), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--socket" && args[i+1] == socket {
			return true
		}
	}
	return false
}
