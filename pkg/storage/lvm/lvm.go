// Package lvm reads and changes LVM2 volumes through the lvm commands'
// JSON reports (lvs --reportformat json).
package lvm

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/linuxha-ng/linuxha/pkg/storage"
)

// LV is one logical volume.
type LV struct {
	Name, VG string
	SizeKB   int64
	Active   bool
	Open     bool
}

// LVs lists the logical volumes of vg.
func LVs(ctx context.Context, r storage.Runner, vg string) ([]LV, error) {
	out, err := r.Run(ctx, nil, "lvs", "--reportformat", "json", "--units", "k", "--nosuffix",
		"-o", "lv_name,vg_name,lv_size,lv_active,lv_device_open", vg)
	if err != nil {
		return nil, err
	}
	return parseLVs(out)
}

func parseLVs(out []byte) ([]LV, error) {
	var rep struct {
		Report []struct {
			LV []map[string]string `json:"lv"`
		} `json:"report"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("lvs: %w", err)
	}
	var lvs []LV
	for _, r := range rep.Report {
		for _, m := range r.LV {
			size, _ := strconv.ParseFloat(m["lv_size"], 64)
			lvs = append(lvs, LV{Name: m["lv_name"], VG: m["vg_name"], SizeKB: int64(size),
				Active: m["lv_active"] == "active", Open: strings.HasPrefix(m["lv_device_open"], "open")})
		}
	}
	return lvs, nil
}

// Create makes a logical volume of sizeKB in vg.
func Create(ctx context.Context, r storage.Runner, vg, name string, sizeKB int64) error {
	_, err := r.Run(ctx, nil, "lvcreate", "-q", "-y", "-L", fmt.Sprintf("%dk", sizeKB), "-n", name, vg)
	return err
}

// Extend grows a logical volume to sizeKB; LVM rounds up to whole extents.
func Extend(ctx context.Context, r storage.Runner, vg, name string, sizeKB int64) error {
	_, err := r.Run(ctx, nil, "lvextend", "-q", "-L", fmt.Sprintf("%dk", sizeKB), vg+"/"+name)
	return err
}

// VG is one volume group.
type VG struct {
	Name   string
	FreeKB int64
}

// VGs lists the volume groups, or only name when it is set; a missing
// group is not an error, just absent from the list.
func VGs(ctx context.Context, r storage.Runner) ([]VG, error) {
	out, err := r.Run(ctx, nil, "vgs", "--reportformat", "json", "--units", "k", "--nosuffix", "-o", "vg_name,vg_free")
	if err != nil {
		return nil, err
	}
	var rep struct {
		Report []struct {
			VG []map[string]string `json:"vg"`
		} `json:"report"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("vgs: %w", err)
	}
	var vgs []VG
	for _, r := range rep.Report {
		for _, m := range r.VG {
			free, _ := strconv.ParseFloat(m["vg_free"], 64)
			vgs = append(vgs, VG{Name: m["vg_name"], FreeKB: int64(free)})
		}
	}
	return vgs, nil
}
