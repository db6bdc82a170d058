package lvm

import "testing"

func TestParseLVs(t *testing.T) {
	out := `  {
      "report": [
          {
              "lv": [
                  {"lv_name":"docs", "vg_name":"app01vg", "lv_size":"20480.00", "lv_active":"active", "lv_device_open":"open"},
                  {"lv_name":"docs_meta", "vg_name":"app01vg", "lv_size":"131072.00", "lv_active":"active", "lv_device_open":""}
              ]
          }
      ]
  }`
	lvs, err := parseLVs([]byte(out))
	if err != nil || len(lvs) != 2 || lvs[0] != (LV{"docs", "app01vg", 20480, true, true}) || lvs[1].Open || lvs[1].SizeKB != 131072 {
		t.Fatalf("%+v %v", lvs, err)
	}
}
