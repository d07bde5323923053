package validate

import (
	"fmt"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// identity is what pod and container security contexts both say about
// the process's ids and confinement.
type identity interface {
	GetRunAsUser() *runtime.Int64Value
	GetRunAsGroup() *runtime.Int64Value
	GetSupplementalGroups() []int64
	GetSupplementalGroupsPolicy() runtime.SupplementalGroupsPolicy
	GetSeccomp() *runtime.SecurityProfile
	GetApparmor() *runtime.SecurityProfile
}

// ids checks the uid, gid and groups of a security context at field.
func ids(field string, sc identity) error {
	if u := sc.GetRunAsUser(); u != nil {
		if err := id(field+".run_as_user", u.GetValue()); err != nil {
			return err
		}
	}
	if g := sc.GetRunAsGroup(); g != nil {
		if err := id(field+".run_as_group", g.GetValue()); err != nil {
			return err
		}
	}
	for i, g := range sc.GetSupplementalGroups() {
		if err := id(fmt.Sprintf("%s.supplemental_groups[%d]", field, i), g); err != nil {
			return err
		}
	}
	return enum(field+".supplemental_groups_policy", int32(sc.GetSupplementalGroupsPolicy()), runtime.SupplementalGroupsPolicy_name)
}

// profiles checks the seccomp and AppArmor requests of a security context.
func profiles(field string, sc identity) error {
	if err := profile(field+".seccomp", sc.GetSeccomp()); err != nil {
		return err
	}
	return profile(field+".apparmor", sc.GetApparmor())
}
