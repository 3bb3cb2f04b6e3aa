// Changed block tracking for the simulator, which has none.
//
// When CreateSnapshot_Task succeeds, every VirtualDisk of the VM gets a new
// changeId (in the snapshot's own copy of the device list and in the VM's),
// and the disk's guest contents at that moment are frozen into a sparse raw
// file with `qemu-img convert -O raw` (so any format qemu-img reads works).
// QueryChangedDiskAreas then compares real contents: for changeId "*" it
// returns the non-zero areas of the disk at the given snapshot; for an
// earlier changeId it returns the areas whose bytes differ between the two
// frozen states, on a 64 KiB grid.
package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const cbtBlock = 64 << 10

type cbtState struct {
	mu     sync.Mutex
	dir    string
	seq    int
	frozen map[string]string // changeId -> frozen raw file
}

var cbt = &cbtState{frozen: map[string]string{}}

var thisRe = regexp.MustCompile(`<_this[^>]*>([^<]+)</_this>`)

func tagValue(body []byte, tag string) string {
	re := regexp.MustCompile(`<` + tag + `(?:\s[^>]*)?>([^<]*)</` + tag + `>`)
	m := re.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

// localPath maps "[ds] dir/file.vmdk" to the file in the datastore's directory.
func localPath(fileName string) (string, error) {
	m := regexp.MustCompile(`^\[([^\]]+)\] ?(.*)$`).FindStringSubmatch(fileName)
	if m == nil {
		return "", fmt.Errorf("not a datastore path: %q", fileName)
	}
	dir := datastoreDir(m[1])
	if dir == "" {
		return "", fmt.Errorf("no datastore %q", m[1])
	}
	return filepath.Join(dir, filepath.Clean("/"+m[2])), nil
}

// freeze copies the guest contents of a disk into a raw file.
func (c *cbtState) freeze(fileName, changeID string) error {
	src, err := localPath(fileName)
	if err != nil {
		return err
	}
	out := filepath.Join(c.dir, fmt.Sprintf("frozen-%d.raw", len(c.frozen)))
	cmd := exec.Command("qemu-img", "convert", "-O", "raw", src, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img convert %s: %v: %s", src, err, msg)
	}
	c.frozen[changeID] = out
	return nil
}

// currentSnapshot is the id of the VM's current snapshot ("" for none).
func currentSnapshot(vmID string) string {
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vmID}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return ""
	}
	cur := ""
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot != nil && vm.Snapshot.CurrentSnapshot != nil {
			cur = vm.Snapshot.CurrentSnapshot.Value
		}
	})
	return cur
}

// afterSnapshot runs once CreateSnapshot_Task on vmID has completed.
func (c *cbtState) afterSnapshot(vmID string) {
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vmID}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok || vm.Snapshot == nil || vm.Snapshot.CurrentSnapshot == nil {
		return
	}
	snap, ok := simulator.Map.Get(*vm.Snapshot.CurrentSnapshot).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	simulator.Map.WithLock(vm, func() {
		devices := make([]types.BaseVirtualDevice, 0, len(snap.Config.Hardware.Device))
		for _, d := range snap.Config.Hardware.Device {
			disk, ok := d.(*types.VirtualDisk)
			if !ok {
				devices = append(devices, d)
				continue
			}
			backing, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok {
				devices = append(devices, d)
				continue
			}
			id := fmt.Sprintf("52 66 65 72 72 79 %02x %02x/%d", c.seq&0xff, disk.Key&0xff, c.seq)
			if err := c.freeze(backing.FileName, id); err != nil {
				fmt.Fprintf(os.Stderr, "cbt: %v\n", err)
				devices = append(devices, d)
				continue
			}
			// The snapshot keeps its own copy of the disk with this changeId;
			// the VM's disk carries the latest one.
			b2 := *backing
			b2.ChangeId = id
			d2 := *disk
			d2.Backing = &b2
			devices = append(devices, &d2)
			backing.ChangeId = id
		}
		snap.Config.Hardware.Device = devices
	})
}

type changedArea struct {
	Start  int64 `xml:"start"`
	Length int64 `xml:"length"`
}

type diskChangeInfo struct {
	StartOffset int64         `xml:"startOffset"`
	Length      int64         `xml:"length"`
	ChangedArea []changedArea `xml:"changedArea"`
}

func soapFault(w http.ResponseWriter, fault, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(msg))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" xsi:type="%s"></%sFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
		esc.String(), fault, fault, fault)
}

// queryChangedDiskAreas answers the SOAP method of the same name.
func (c *cbtState) queryChangedDiskAreas(w http.ResponseWriter, r *http.Request, body []byte) {
	if _, err := r.Cookie("vmware_soap_session"); err != nil {
		soapFault(w, "NotAuthenticated", "no session")
		return
	}
	vmID := ""
	if m := thisRe.FindSubmatch(body); m != nil {
		vmID = strings.TrimSpace(string(m[1]))
	}
	vmRef := types.ManagedObjectReference{Type: "VirtualMachine", Value: vmID}
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		soapFault(w, "ManagedObjectNotFound", "The object has already been deleted or has not been completely created")
		return
	}
	key, err := strconv.Atoi(tagValue(body, "deviceKey"))
	if err != nil {
		soapFault(w, "InvalidArgument", "deviceKey")
		return
	}
	start, err := strconv.ParseInt(tagValue(body, "startOffset"), 10, 64)
	if err != nil || start < 0 {
		soapFault(w, "InvalidArgument", "startOffset")
		return
	}
	changeID := tagValue(body, "changeId")

	devices := vm.Config.Hardware.Device
	if snapID := tagValue(body, "snapshot"); snapID != "" {
		ref := types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: snapID}
		snap, ok := simulator.Map.Get(ref).(*simulator.VirtualMachineSnapshot)
		if !ok {
			soapFault(w, "ManagedObjectNotFound", "snapshot "+snapID)
			return
		}
		devices = snap.Config.Hardware.Device
	} else {
		soapFault(w, "InvalidArgument", "snapshot: ferry-vcsim answers QueryChangedDiskAreas for snapshots only")
		return
	}
	var current string
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok && disk.Key == int32(key) {
			if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
				current = b.ChangeId
			}
		}
	}
	c.mu.Lock()
	target, ok := c.frozen[current]
	base := ""
	baseOK := true
	if changeID != "*" {
		base, baseOK = c.frozen[changeID]
	}
	c.mu.Unlock()
	if current == "" || !ok {
		soapFault(w, "FileFault", fmt.Sprintf("disk %d has no changed block tracking state in this snapshot", key))
		return
	}
	if !baseOK {
		soapFault(w, "InvalidArgument", "changeId "+changeID+" is not known")
		return
	}
	info, err := diffAreas(target, base, start)
	if err != nil {
		soapFault(w, "SystemError", err.Error())
		return
	}
	out, err := xml.Marshal(info)
	if err != nil {
		soapFault(w, "SystemError", err.Error())
		return
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(string(out), "<diskChangeInfo>"), "</diskChangeInfo>")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><QueryChangedDiskAreasResponse xmlns="urn:vim25"><returnval>%s</returnval></QueryChangedDiskAreasResponse></soapenv:Body></soapenv:Envelope>`, inner)
}

// diffAreas compares target with base (or with zeros when base is "") from
// start, block by block, and merges adjacent changed blocks.
func diffAreas(target, base string, start int64) (*diskChangeInfo, error) {
	t, err := os.Open(target)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	st, err := t.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var b *os.File
	if base != "" {
		if b, err = os.Open(base); err != nil {
			return nil, err
		}
		defer b.Close()
	}
	start -= start % cbtBlock
	info := &diskChangeInfo{StartOffset: start, Length: size - start}
	if info.Length < 0 {
		info.Length = 0
	}
	tb := make([]byte, cbtBlock)
	bb := make([]byte, cbtBlock)
	for off := start; off < size; off += cbtBlock {
		n, err := t.ReadAt(tb, off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		for i := range bb[:n] {
			bb[i] = 0
		}
		if b != nil {
			if _, err := b.ReadAt(bb[:n], off); err != nil && err != io.EOF {
				return nil, err
			}
		}
		if bytes.Equal(tb[:n], bb[:n]) {
			continue
		}
		if k := len(info.ChangedArea); k > 0 && info.ChangedArea[k-1].Start+info.ChangedArea[k-1].Length == off {
			info.ChangedArea[k-1].Length += int64(n)
		} else {
			info.ChangedArea = append(info.ChangedArea, changedArea{Start: off, Length: int64(n)})
		}
	}
	return info, nil
}
