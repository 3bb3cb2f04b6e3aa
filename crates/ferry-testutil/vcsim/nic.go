package main

// POST /ferry/add-nic?vm=<moref>&network=<name>&mac=<mac>: adds an e1000e
// NIC on the named network (a standard network or a distributed port group)
// with a manual MAC address, through a real ReconfigVM_Task made by the
// simulator's own client. Answers the new device key as JSON.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

func addNicHandler(self *url.URL) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(code int, err error) {
			http.Error(w, err.Error(), code)
		}
		if r.Method != http.MethodPost {
			fail(http.StatusMethodNotAllowed, fmt.Errorf("POST only"))
			return
		}
		q := r.URL.Query()
		ctx := context.Background()
		c, err := govmomi.NewClient(ctx, self, true)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		defer c.Logout(ctx)
		finder := find.NewFinder(c.Client, true)
		dc, err := finder.DefaultDatacenter(ctx)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		finder.SetDatacenter(dc)
		network, err := finder.Network(ctx, q.Get("network"))
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		backing, err := network.EthernetCardBackingInfo(ctx)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		vm := object.NewVirtualMachine(c.Client, types.ManagedObjectReference{Type: "VirtualMachine", Value: q.Get("vm")})
		devices, err := vm.Device(ctx)
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		card, err := devices.CreateEthernetCard("e1000e", backing)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		eth := card.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		if mac := q.Get("mac"); mac != "" {
			eth.AddressType = string(types.VirtualEthernetCardMacTypeManual)
			eth.MacAddress = mac
		}
		spec := types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: card},
		}}
		task, err := vm.Reconfigure(ctx, spec)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			fail(http.StatusInternalServerError, fmt.Errorf("ReconfigVM_Task: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"mac": eth.MacAddress})
	}
}
