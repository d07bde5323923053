package ocispec

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// maxID is the largest id the OCI runtimes accept.
const maxID = 1<<31 - 1

// ResolveUser works out the container's uid, gid and groups from its
// security context and the image's user, reading the rootfs' /etc/passwd
// and /etc/group (never following a link out of the rootfs).
func ResolveUser(rootfs string, sc *runtime.LinuxContainerSecurityContext, imageUser string) (User, error) {
	passwd := readDBInRoot(rootfs, "etc/passwd")
	groups := readDBInRoot(rootfs, "etc/group")
	var u User
	var name string
	var err error
	switch {
	case sc.GetRunAsUser() != nil:
		u.UID = uint32(sc.GetRunAsUser().GetValue())
		name, u.GID = userByUID(passwd, u.UID)
	case sc.GetRunAsUsername() != "":
		name = sc.GetRunAsUsername()
		if u.UID, u.GID, err = userByName(passwd, name); err != nil {
			return User{}, err
		}
	default:
		if name, u, err = imageUserSpec(passwd, groups, imageUser); err != nil {
			return User{}, err
		}
	}
	if g := sc.GetRunAsGroup(); g != nil {
		u.GID = uint32(g.GetValue())
	}
	if u.UID > maxID || u.GID > maxID {
		return User{}, errdefs.InvalidArgument("user %d:%d (from the image's user %q or its /etc/passwd) is outside 0..%d", u.UID, u.GID, imageUser, maxID)
	}
	seen := map[uint32]bool{u.GID: true}
	add := func(gid uint32) {
		if !seen[gid] {
			seen[gid] = true
			u.AdditionalGids = append(u.AdditionalGids, gid)
		}
	}
	// Merge (the default) adds the groups the image's /etc/group puts the
	// user in; Strict takes only what the request names.
	if name != "" && sc.GetSupplementalGroupsPolicy() != runtime.SupplementalGroupsPolicy_Strict {
		for _, g := range groups {
			if len(g) >= 4 && contains(strings.Split(g[3], ","), name) {
				if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil {
					add(uint32(gid))
				}
			}
		}
	}
	for _, gid := range sc.GetSupplementalGroups() {
		add(uint32(gid))
	}
	return u, nil
}

// imageUserSpec resolves the image config's "user[:group]".
func imageUserSpec(passwd, groups [][]string, spec string) (string, User, error) {
	var u User
	if spec == "" {
		return "root", u, nil
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	name := ""
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(n)
		name, u.GID = userByUID(passwd, u.UID)
	} else {
		uid, gid, err := userByName(passwd, userPart)
		if err != nil {
			return "", User{}, err
		}
		name, u.UID, u.GID = userPart, uid, gid
	}
	if hasGroup {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.GID = uint32(n)
		} else {
			gid, ok := lookupField(groups, groupPart, 0, 2)
			if !ok {
				return "", User{}, errdefs.InvalidArgument("image group %q not found in /etc/group", groupPart)
			}
			u.GID = gid
		}
	}
	return name, u, nil
}

func userByName(passwd [][]string, name string) (uid, gid uint32, err error) {
	for _, e := range passwd {
		if len(e) >= 4 && e[0] == name {
			u, err1 := strconv.ParseUint(e[2], 10, 32)
			g, err2 := strconv.ParseUint(e[3], 10, 32)
			if err1 == nil && err2 == nil {
				return uint32(u), uint32(g), nil
			}
		}
	}
	return 0, 0, errdefs.InvalidArgument("user %q not found in the image's /etc/passwd", name)
}

func userByUID(passwd [][]string, uid uint32) (string, uint32) {
	for _, e := range passwd {
		if len(e) >= 4 && e[2] == strconv.FormatUint(uint64(uid), 10) {
			if g, err := strconv.ParseUint(e[3], 10, 32); err == nil {
				return e[0], uint32(g)
			}
		}
	}
	return "", 0
}

func lookupField(db [][]string, key string, keyField, valField int) (uint32, bool) {
	for _, e := range db {
		if len(e) > valField && e[keyField] == key {
			if v, err := strconv.ParseUint(e[valField], 10, 32); err == nil {
				return uint32(v), true
			}
		}
	}
	return 0, false
}

// readDBInRoot reads a colon-separated database (passwd, group) inside
// rootfs; a missing file is an empty database.
func readDBInRoot(rootfs, rel string) [][]string {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(root)
	fd, err := unix.Openat2(root, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(io.LimitReader(f, 4<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
