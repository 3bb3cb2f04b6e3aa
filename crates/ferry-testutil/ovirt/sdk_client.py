"""The official oVirt Python SDK and imageio client against the simulator.

Proves the engine simulator (engine_sim.py) answers the real SDK client:
logs in, lists and reads every collection the simulator serves, powers
the VM off, creates and removes a snapshot, then for every disk of the VM
creates a download image transfer with the SDK, waits for
``transferring``, downloads it with the real imageio client
(``ovirt_imageio.client.download``) and finalizes it. Prints one JSON
document with what it saw. Also usable by benchmarks (``--download-only``).

Usage: python sdk_client.py INFO.json VM_NAME OUT_DIR [--download-only]
"""

import json
import os
import sys
import time

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
from ovirt_imageio import client


def wait_phase(transfer_service, want):
    for _ in range(600):
        t = transfer_service.get()
        if t.phase != types.ImageTransferPhase.INITIALIZING:
            if t.phase != want:
                raise RuntimeError(f"transfer phase {t.phase}, wanted {want}")
            return t
        time.sleep(0.05)
    raise RuntimeError("transfer stayed initializing")


def main():
    info = json.load(open(sys.argv[1]))
    vm_name, out_dir = sys.argv[2], sys.argv[3]
    download_only = "--download-only" in sys.argv[4:]
    conn = sdk.Connection(url=info["url"], username=info["username"],
                          password=info["password"], ca_file=info["ca_file"])
    seen = {}
    system = conn.system_service()
    vms_service = system.vms_service()
    vm = vms_service.list(search=f"name={vm_name}")[0]
    vm_service = vms_service.vm_service(vm.id)
    if not download_only:
        seen["api"] = system.get().product_info.name
        seen["vm"] = {
            "id": vm.id, "name": vm.name, "status": str(vm.status),
            "memory": vm.memory,
            "topology": [vm.cpu.topology.sockets, vm.cpu.topology.cores,
                         vm.cpu.topology.threads],
            "bios": str(vm.bios.type), "os": vm.os.type,
        }
        seen["nics"] = [
            {"mac": n.mac.address,
             "profile": conn.follow_link(n.vnic_profile).name}
            for n in vm_service.nics_service().list()]
        seen["storage_domains"] = sorted(
            s.name for s in system.storage_domains_service().list())
        seen["networks"] = sorted(n.name for n in system.networks_service().list())
        seen["clusters"] = [c.name for c in system.clusters_service().list()]
        seen["hosts"] = [h.name for h in system.hosts_service().list()]
        seen["datacenters"] = [d.name for d in system.data_centers_service().list()]
        vm_service.shutdown()
        for _ in range(100):
            if vm_service.get().status == types.VmStatus.DOWN:
                break
            time.sleep(0.05)
        seen["status_after_shutdown"] = str(vm_service.get().status)
        snaps = vm_service.snapshots_service()
        snap = snaps.add(types.Snapshot(description="ferry sdk check"))
        seen["snapshots"] = [s.description for s in snaps.list()]
        snaps.snapshot_service(snap.id).remove()
        seen["snapshots_after_remove"] = [s.description for s in snaps.list()]
    transfers = system.image_transfers_service()
    disks_service = system.disks_service()
    seen["disks"] = []
    for att in vm_service.disk_attachments_service().list():
        disk = disks_service.disk_service(att.disk.id).get()
        sd = conn.follow_link(disk.storage_domains[0])
        t = transfers.add(types.ImageTransfer(
            disk=types.Disk(id=disk.id),
            direction=types.ImageTransferDirection.DOWNLOAD,
            format=types.DiskFormat.RAW, inactivity_timeout=120))
        ts = transfers.image_transfer_service(t.id)
        t = wait_phase(ts, types.ImageTransferPhase.TRANSFERRING)
        out = os.path.join(out_dir, disk.id + ".qcow2")
        start = time.monotonic()
        client.download(t.transfer_url, out, info["ca_file"], fmt="qcow2")
        secs = time.monotonic() - start
        ts.finalize()
        seen["disks"].append({
            "id": disk.id, "name": disk.name, "storage_domain": sd.name,
            "provisioned_size": disk.provisioned_size,
            "format": str(disk.format), "interface": str(att.interface),
            "bootable": att.bootable, "file": out, "seconds": secs,
            "phase_after_finalize": str(ts.get().phase)})
    conn.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
