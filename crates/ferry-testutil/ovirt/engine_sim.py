"""oVirt engine REST API simulator for ferry's tests (NOT an oVirt engine).

This is a test simulator. It answers a subset of the oVirt engine REST API
v4 (``/ovirt-engine/api``) in the engine's real XML, written and read with
the official Python SDK's own types and XML writer/reader
(``ovirtsdk4.types``, ``ovirtsdk4.writer.Writer``, ``ovirtsdk4.reader.Reader``),
so the real SDK client can talk to it. The data plane is real: it starts a
real ``ovirt-imageio`` daemon (TLS on 127.0.0.1) and, for NBD-backed disks,
``qemu-nbd``; image transfers add real tickets through imageio's control
port and point ``transfer_url`` at the daemon.

What it does:
  * SSO: ``POST /ovirt-engine/sso/oauth/token`` (grant_type=password) and
    ``POST /ovirt-engine/services/sso-logout``; the API needs the bearer
    token (401 without it, the engine's JSON error on a wrong password).
  * Read: the API root, vms (with ``search=name=X``), a VM's
    diskattachments, nics and snapshots, disks, storagedomains,
    diskprofiles, networks, vnicprofiles, clusters, hosts, datacenters,
    imagetransfers.
  * Power: ``POST /vms/ID/shutdown|stop|start`` (shutdown passes through
    ``powering_down`` for one read).
  * Snapshots: create and remove (metadata only: no disk data changes).
  * Image transfers: ``POST /imagetransfers`` (download or upload of one
    disk; refused with 409 when the disk is locked or the VM is not down),
    phase ``initializing`` then ``transferring``; ``finalize`` and
    ``cancel`` remove the imageio ticket and end in ``finished_success`` /
    ``finished_failure``. ``format=raw`` of a qcow2 disk is served through
    qemu-nbd (guest data), like vdsm does.
  * Faults from the scenario: a disk created ``locked``; a disk whose
    transfers the engine pauses (``pause_transfers``: phase
    ``paused_system``, ticket removed); a VM deleted when a transfer of one
    of its disks starts (``delete_on_transfer``: ticket removed, transfer
    ``cancelled_system``, the VM answers 404).
  * ``GET /ferry/state`` (no auth, JSON): transfers with the bytes imageio
    says each ticket served, VM power states, disk statuses and the list of
    actions taken, for test assertions.

What it does not do: no storage operations on data (snapshots do not
freeze disks, transfers never copy or convert), no incremental backups or
checkpoints, no jobs/events/tags/permissions/templates, no ``follow``,
``all_content`` or paging, no proxy (``proxy_url`` equals
``transfer_url``), no engine CA download endpoint, no persistence.

Usage: ``python engine_sim.py SCENARIO.json WORKDIR``. Prints one JSON line
(URLs, credentials, CA file) on stdout and runs until stdin closes.
"""

import http.client
import http.server
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

from ovirtsdk4 import types
from ovirtsdk4.reader import Reader
from ovirtsdk4.writer import Writer

API = "/ovirt-engine/api"
# Collection path -> the XML root tag the engine uses for it.
ROOT_TAGS = {"storagedomains": "storage_domains", "vnicprofiles": "vnic_profiles",
             "diskprofiles": "disk_profiles",
             "datacenters": "data_centers", "imagetransfers": "image_transfers"}
NS = uuid.UUID("5a0e6d1c-3e2b-4c3a-9a59-6f7272792d73")


def T(cls, *args, **kw):
    """An SDK object; `href` is an attribute, not a constructor argument."""
    href = kw.pop("href", None)
    obj = cls(*args, **kw)
    if href is not None:
        obj.href = href
    return obj


def oid(kind, name):
    return str(uuid.uuid5(NS, f"{kind}/{name}"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_tls(d):
    """A CA and a leaf certificate for 127.0.0.1 signed by it."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = (os.path.join(d, n)
                      for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(d, "server.ext")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj",
        "/CN=ferry test oVirt engine CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=critical,CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return ca, key, cert


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class Imageio:
    """A real ovirt-imageio daemon on 127.0.0.1 with TLS."""

    def __init__(self, d, key, cert, ca):
        self.dir = os.path.join(d, "imageio")
        os.makedirs(os.path.join(self.dir, "conf.d"))
        os.makedirs(os.path.join(self.dir, "run"))
        self.log = os.path.join(self.dir, "daemon.log")
        # The ports are picked free, then bound by the daemon: another
        # process may take one in between, so a daemon that exits at once
        # is started again on other ports.
        for _ in range(5):
            if self._start(key, cert, ca):
                return
        raise RuntimeError("ovirt-imageio did not start: "
                           + open(self.log + ".err").read())

    def _start(self, key, cert, ca):
        self.port = free_port()
        self.control_port = free_port()
        conf = f"""[daemon]
drop_privileges = false
systemd_enable = false
run_dir = {self.dir}/run
poll_interval = 0.2

[tls]
enable = true
key_file = {key}
cert_file = {cert}
ca_file = {ca}

[remote]
host = 127.0.0.1
port = {self.port}

[local]
enable = false

[control]
transport = tcp
port = {self.control_port}

[handlers]
keys = logfile

[handler_logfile]
args = ("{self.log}",)
"""
        with open(os.path.join(self.dir, "conf.d", "daemon.conf"), "w") as f:
            f.write(conf)
        exe = os.path.join(os.path.dirname(sys.executable), "ovirt-imageio")
        self.proc = subprocess.Popen([exe, "--conf-dir", self.dir],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".err", "w"))
        deadline = time.monotonic() + 30
        while True:
            try:
                self._control("GET", "/tickets/none")
                return True
            except OSError:
                if self.proc.poll() is not None:
                    return False
                if time.monotonic() > deadline:
                    self.proc.kill()
                    raise RuntimeError("ovirt-imageio did not answer in 30 s: "
                                       + open(self.log + ".err").read())
                time.sleep(0.1)

    def _control(self, method, path, body=None):
        c = http.client.HTTPConnection("localhost", self.control_port,
                                       timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            c.request(method, path, body=data)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def add_ticket(self, ticket):
        status, body = self._control("PUT", "/tickets/" + ticket["uuid"],
                                     ticket)
        if status != 200:
            raise RuntimeError(f"add ticket: {status} {body!r}")

    def ticket_info(self, tid):
        status, body = self._control("GET", "/tickets/" + tid)
        return json.loads(body) if status == 200 else None

    def remove_ticket(self, tid):
        self._control("DELETE", "/tickets/" + tid)

    def url(self, tid):
        return f"https://127.0.0.1:{self.port}/images/{tid}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Engine:
    """The simulated engine's state; every method runs under self.lock."""

    def __init__(self, scenario, d, imageio):
        self.lock = threading.RLock()
        self.imageio = imageio
        self.dir = d
        self.username = scenario.get("username", "admin@internal")
        self.password = scenario["password"]
        self.tokens = set()
        self.actions = []
        self.nbd = []
        self.dc = {"id": oid("dc", "Default"), "name": "Default"}
        self.cluster = {"id": oid("cluster", "Default"), "name": "Default",
                        "cpu_type": scenario.get("cluster_cpu",
                                                 "Intel Skylake Server Family")}
        self.host = {"id": oid("host", "host1"), "name": "host1",
                     "address": "127.0.0.1"}
        self.sds = {}
        for name in scenario.get("storage_domains", ["data1", "data2"]):
            self.sds[oid("sd", name)] = {"id": oid("sd", name), "name": name}
        # One disk profile per storage domain, named after it, as the engine
        # creates them.
        self.disk_profiles = {
            oid("diskprofile", sd["name"]): {"id": oid("diskprofile", sd["name"]),
                                             "name": sd["name"], "sd": sd["id"]}
            for sd in self.sds.values()}
        self.networks = {}
        self.profiles = {}
        for name in scenario.get("networks", ["ovirtmgmt", "vmnet"]):
            self.networks[oid("net", name)] = {"id": oid("net", name),
                                               "name": name}
            self.profiles[oid("profile", name)] = {
                "id": oid("profile", name), "name": name,
                "network": oid("net", name)}
        self.vms = {}
        self.disks = {}
        self.transfers = {}
        for vm in scenario.get("vms", []):
            self._add_vm(vm)

    def _add_vm(self, spec):
        vm = dict(spec)
        vm.setdefault("id", oid("vm", spec["name"]))
        vm.setdefault("status", "up")
        vm["snapshots"] = [{"id": oid("snap", vm["id"] + "/active"),
                            "description": "Active VM", "type": "active"}]
        vm["disk_ids"] = []
        for i, ds in enumerate(spec.get("disks", [])):
            disk = dict(ds)
            disk.setdefault("id", oid("disk", f"{vm['name']}/{i}"))
            disk.setdefault("name", f"{vm['name']}_Disk{i + 1}")
            disk.setdefault("storage_domain", next(iter(self.sds.values()))["name"])
            disk["vm"] = vm["id"]
            info = qemu_img_info(disk["path"])
            disk["provisioned_size"] = info["virtual-size"]
            disk["actual_size"] = info.get("actual-size", 0)
            disk["qemu_format"] = info["format"]
            disk.setdefault("format", "cow" if info["format"] == "qcow2" else "raw")
            disk["status"] = "locked" if disk.get("locked") else "ok"
            self.disks[disk["id"]] = disk
            vm["disk_ids"].append(disk["id"])
        nics = []
        for i, ns in enumerate(spec.get("nics", [])):
            nic = dict(ns)
            nic.setdefault("id", oid("nic", f"{vm['name']}/{i}"))
            nic.setdefault("name", f"nic{i + 1}")
            nic.setdefault("interface", "virtio")
            nics.append(nic)
        vm["nics"] = nics
        self.vms[vm["id"]] = vm

    # ---- XML objects -------------------------------------------------

    def href(self, *parts):
        return API + "/" + "/".join(parts)

    def x_vm(self, vm):
        status = vm["status"]
        if status == "powering_down":
            vm["status"] = "down"
        firmware = T(types.Bios, type=T(types.BiosType, vm.get("bios", "q35_ovmf")))
        cpu = T(types.Cpu, topology=T(types.CpuTopology, 
            sockets=vm.get("sockets", 1), cores=vm.get("cores", 1),
            threads=vm.get("threads", 1)))
        if vm.get("cpu_model"):
            cpu.type = vm["cpu_model"]
        x = T(types.Vm, 
            id=vm["id"], name=vm["name"], href=self.href("vms", vm["id"]),
            description=vm.get("description", ""),
            status=T(types.VmStatus, status),
            memory=vm.get("memory", 1 << 30),
            memory_policy=T(types.MemoryPolicy, 
                guaranteed=vm.get("memory", 1 << 30),
                max=vm.get("memory", 1 << 30) * 4),
            cpu=cpu,
            bios=firmware,
            os=T(types.OperatingSystem, type=vm.get("os", "rhel_9x64")),
            cluster=T(types.Cluster, id=self.cluster["id"],
                                  href=self.href("clusters", self.cluster["id"])),
            high_availability=T(types.HighAvailability, 
                enabled=vm.get("ha", False), priority=0),
            placement_policy=T(types.VmPlacementPolicy, 
                affinity=T(types.VmAffinity, vm.get("placement", "migratable"))),
            usb=T(types.Usb, enabled=vm.get("usb", False)),
            storage_error_resume_behaviour=T(types.VmStorageErrorResumeBehaviour, 
                vm.get("storage_error_resume_behaviour", "auto_resume")),
            custom_cpu_model=vm.get("custom_cpu_model"),
            stateless=False,
            type=types.VmType.SERVER,
            custom_properties=[T(types.CustomProperty, name=k, value=v)
                               for k, v in vm.get("custom_properties", {}).items()],
        )
        if status in ("up", "powering_down"):
            x.host = T(types.Host, id=self.host["id"],
                                href=self.href("hosts", self.host["id"]))
        return x

    def x_disk(self, d):
        sd = self.sd_by_name(d["storage_domain"])
        return T(types.Disk, 
            id=d["id"], name=d["name"], alias=d["name"],
            href=self.href("disks", d["id"]),
            provisioned_size=d["provisioned_size"],
            actual_size=d["actual_size"], total_size=d["actual_size"],
            format=T(types.DiskFormat, d["format"]),
            status=T(types.DiskStatus, d["status"]),
            storage_type=types.DiskStorageType.IMAGE,
            content_type=types.DiskContentType.DATA,
            sparse=d["format"] == "cow",
            shareable=False,
            backup=types.DiskBackup.NONE,
            image_id=oid("image", d["id"]),
            storage_domains=[T(types.StorageDomain, 
                id=sd["id"], href=self.href("storagedomains", sd["id"]))],
        )

    def x_attachment(self, d, index):
        return T(types.DiskAttachment, 
            id=d["id"], href=self.href("vms", d["vm"], "diskattachments", d["id"]),
            bootable=d.get("bootable", index == 0),
            interface=T(types.DiskInterface, d.get("interface", "virtio_scsi")),
            active=True, read_only=False,
            logical_name=None,
            disk=T(types.Disk, id=d["id"], href=self.href("disks", d["id"])),
            vm=T(types.Vm, id=d["vm"], href=self.href("vms", d["vm"])))

    def x_nic(self, vm, nic):
        profile = self.profile_by_name(nic["profile"]) if nic.get("profile") else None
        return T(types.Nic, 
            id=nic["id"], name=nic["name"],
            href=self.href("vms", vm["id"], "nics", nic["id"]),
            interface=T(types.NicInterface, nic["interface"]),
            mac=T(types.Mac, address=nic["mac"]),
            linked=True, plugged=True,
            vnic_profile=(T(types.VnicProfile, 
                id=profile["id"], href=self.href("vnicprofiles", profile["id"]))
                if profile else None),
            vm=T(types.Vm, id=vm["id"], href=self.href("vms", vm["id"])))

    def x_snapshot(self, vm, s):
        return T(types.Snapshot, 
            id=s["id"], href=self.href("vms", vm["id"], "snapshots", s["id"]),
            description=s["description"],
            snapshot_type=T(types.SnapshotType, s["type"]),
            snapshot_status=types.SnapshotStatus.OK,
            vm=T(types.Vm, id=vm["id"], href=self.href("vms", vm["id"])))

    def x_sd(self, sd):
        return T(types.StorageDomain, 
            id=sd["id"], name=sd["name"], href=self.href("storagedomains", sd["id"]),
            type=types.StorageDomainType.DATA,
            storage=T(types.HostStorage, type=types.StorageType.NFS),
            available=1 << 40, used=1 << 30, committed=1 << 30,
            data_centers=[T(types.DataCenter, 
                id=self.dc["id"], href=self.href("datacenters", self.dc["id"]))])

    def x_disk_profile(self, p):
        return T(types.DiskProfile, id=p["id"], name=p["name"],
                 href=self.href("diskprofiles", p["id"]),
                 storage_domain=T(types.StorageDomain, id=p["sd"],
                                  href=self.href("storagedomains", p["sd"])))

    def x_network(self, n):
        return T(types.Network, 
            id=n["id"], name=n["name"], href=self.href("networks", n["id"]),
            data_center=T(types.DataCenter, 
                id=self.dc["id"], href=self.href("datacenters", self.dc["id"])),
            vnic_profiles=[], usages=[types.NetworkUsage.VM])

    def x_profile(self, p):
        return T(types.VnicProfile, 
            id=p["id"], name=p["name"], href=self.href("vnicprofiles", p["id"]),
            port_mirroring=False, pass_through=T(types.VnicPassThrough, 
                mode=types.VnicPassThroughMode.DISABLED),
            network=T(types.Network, id=p["network"],
                                  href=self.href("networks", p["network"])))

    def x_cluster(self, c):
        return T(types.Cluster, 
            id=c["id"], name=c["name"], href=self.href("clusters", c["id"]),
            cpu=T(types.Cpu, type=c["cpu_type"]),
            bios_type=types.BiosType.Q35_OVMF,
            data_center=T(types.DataCenter, 
                id=self.dc["id"], href=self.href("datacenters", self.dc["id"])))

    def x_host(self, h):
        return T(types.Host, 
            id=h["id"], name=h["name"], href=self.href("hosts", h["id"]),
            address=h["address"], status=types.HostStatus.UP,
            cluster=T(types.Cluster, id=self.cluster["id"],
                                  href=self.href("clusters", self.cluster["id"])))

    def x_dc(self, dc):
        return T(types.DataCenter, id=dc["id"], name=dc["name"],
                                href=self.href("datacenters", dc["id"]),
                                status=types.DataCenterStatus.UP, local=False)

    def x_transfer(self, t):
        if t["phase"] == "initializing":
            # The engine reports the ticket ready on the next read.
            t["phase"] = "paused_system" if t["pause"] else "transferring"
        elif t["phase"] in ("finalizing_success", "finalizing_failure"):
            t["phase"] = ("finished_success" if t["phase"] == "finalizing_success"
                          else "finished_failure")
        return T(types.ImageTransfer, 
            id=t["id"], href=self.href("imagetransfers", t["id"]),
            phase=T(types.ImageTransferPhase, t["phase"]),
            direction=T(types.ImageTransferDirection, t["direction"]),
            format=T(types.DiskFormat, t["format"]),
            transfer_url=t["url"], proxy_url=t["url"],
            inactivity_timeout=t["inactivity_timeout"],
            transferred=t.get("transferred", 0),
            disk=T(types.Disk, id=t["disk"], href=self.href("disks", t["disk"])),
            image=T(types.Image, id=oid("image", t["disk"])),
            host=T(types.Host, id=self.host["id"],
                            href=self.href("hosts", self.host["id"])))

    def sd_by_name(self, name):
        return next(s for s in self.sds.values() if s["name"] == name)

    def profile_by_name(self, name):
        return next(p for p in self.profiles.values() if p["name"] == name)

    # ---- image transfers ---------------------------------------------

    def nbd_url(self, disk):
        sock = os.path.join(self.dir, f"nbd-{disk['id']}.sock")
        if not os.path.exists(sock):
            p = subprocess.Popen(
                ["qemu-nbd", "--persistent", "--shared=8", "-r", "-f",
                 disk["qemu_format"], "--socket=" + sock,
                 "--export-name=" + disk["id"], disk["path"]],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.nbd.append(p)
            for _ in range(300):
                if os.path.exists(sock):
                    break
                time.sleep(0.02)
        return f"nbd:unix:{sock}:exportname={disk['id']}"

    def create_transfer(self, body):
        req = Reader.read(body)
        if not isinstance(req, types.ImageTransfer):
            return fault(400, "Bad request", "expected an image_transfer")
        disk_id = req.disk.id if req.disk else (req.image.id if req.image else None)
        disk = self.disks.get(disk_id)
        if disk is None:
            return fault(404, "Operation Failed",
                         f"[Cannot transfer Virtual Disk: disk {disk_id} not found.]")
        if disk["status"] == "locked":
            return fault(409, "Operation Failed",
                         f"[Cannot transfer Virtual Disk. The following disks are "
                         f"locked: {disk['name']}. Please try again in a few minutes.]")
        vm = self.vms.get(disk["vm"])
        if vm is not None and vm["status"] not in ("down",):
            return fault(409, "Operation Failed",
                         f"[Cannot transfer Virtual Disk. VM {vm['name']} is "
                         f"running: the disk is in use.]")
        direction = req.direction.value if req.direction else "upload"
        fmt = req.format.value if req.format else "cow"
        tid = str(uuid.uuid4())
        ticket_id = str(uuid.uuid4())
        if (disk.get("backend", "nbd") == "nbd"
                or (fmt == "raw" and disk["qemu_format"] != "raw")):
            url = self.nbd_url(disk)
            size = disk["provisioned_size"]
        else:
            url = "file://" + os.path.abspath(disk["path"])
            size = os.path.getsize(disk["path"])
        timeout = req.inactivity_timeout or 60
        self.imageio.add_ticket({
            "uuid": ticket_id, "size": size, "url": url, "timeout": 3600,
            "inactivity_timeout": timeout, "transfer_id": tid,
            "ops": ["read"] if direction == "download" else ["write"],
            "sparse": fmt == "raw",
        })
        t = {"id": tid, "disk": disk["id"], "ticket": ticket_id,
             "direction": direction, "format": fmt,
             "url": self.imageio.url(ticket_id), "phase": "initializing",
             "inactivity_timeout": timeout, "pause": bool(disk.get("pause_transfers")),
             "transferred": 0}
        self.transfers[tid] = t
        disk["status"] = "locked"
        self.actions.append(f"transfer {tid} {direction} {disk['id']} {fmt}")
        if t["pause"]:
            self._end_ticket(t)
        if vm is not None and vm.get("delete_on_transfer"):
            self.delete_vm(vm["id"], "cancelled_system")
        return 201, Writer.write(self.x_transfer_initial(t))

    def x_transfer_initial(self, t):
        # The create answer says "initializing"; later reads move on.
        x = self.x_transfer(t)
        x.phase = types.ImageTransferPhase.INITIALIZING
        return x

    def _end_ticket(self, t):
        info = self.imageio.ticket_info(t["ticket"])
        if info is not None:
            t["transferred"] = info.get("transferred", 0)
            self.imageio.remove_ticket(t["ticket"])

    def end_transfer(self, tid, ok):
        t = self.transfers.get(tid)
        if t is None:
            return fault(404, "Operation Failed", f"[Image transfer {tid} not found.]")
        if t["phase"].startswith(("finished", "finalizing", "cancelled")):
            return fault(409, "Operation Failed",
                         f"[Image transfer {tid} is already {t['phase']}.]")
        self._end_ticket(t)
        t["phase"] = "finalizing_success" if ok else "finalizing_failure"
        disk = self.disks.get(t["disk"])
        if disk is not None:
            disk["status"] = "ok"
        self.actions.append(("finalize " if ok else "cancel ") + tid)
        return 200, Writer.write(T(types.Action, status="complete"))

    def delete_vm(self, vm_id, phase):
        vm = self.vms.pop(vm_id)
        for d in vm["disk_ids"]:
            self.disks.pop(d, None)
            for t in self.transfers.values():
                if t["disk"] == d and not t["phase"].startswith("finished"):
                    self._end_ticket(t)
                    t["phase"] = phase
        self.actions.append(f"delete vm {vm_id}")

    def power(self, vm, action):
        if action == "shutdown":
            if vm["status"] == "up":
                vm["status"] = "powering_down"
        elif action == "stop":
            vm["status"] = "down"
        elif action == "start":
            if any(self.disks[d]["status"] == "locked" for d in vm["disk_ids"]):
                return fault(409, "Operation Failed",
                             f"[Cannot run VM. VM {vm['name']} is being "
                             f"imported or its disks are locked.]")
            vm["status"] = "up"
        self.actions.append(f"{action} {vm['id']}")
        return 200, Writer.write(T(types.Action, status="complete"))

    def state(self):
        ts = []
        for t in self.transfers.values():
            info = self.imageio.ticket_info(t["ticket"])
            transferred = info.get("transferred", 0) if info else t["transferred"]
            ts.append({"id": t["id"], "disk": t["disk"], "phase": t["phase"],
                       "format": t["format"], "transferred": transferred})
        return {"transfers": ts,
                "vms": {v["id"]: v["status"] for v in self.vms.values()},
                "disks": {d["id"]: d["status"] for d in self.disks.values()},
                "actions": self.actions}


def fault(status, reason, detail):
    return status, Writer.write(T(types.Fault, reason=reason, detail=detail))


def handler(engine):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("engine-sim: " + (fmt % args) + "\n")

        def send(self, status, body, ctype="application/xml"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            self.dispatch("GET")

        def do_POST(self):
            self.dispatch("POST")

        def do_DELETE(self):
            self.dispatch("DELETE")

        def dispatch(self, method):
            try:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                with engine.lock:
                    status, body, ctype = self.route(method, url.path, query)
            except Exception as e:  # a simulator bug: say so
                traceback.print_exc()
                status, body, ctype = 500, f"engine simulator error: {e!r}", "text/plain"
            self.send(status, body, ctype)

        def route(self, method, path, query):
            if path == "/ferry/state":
                return 200, json.dumps(engine.state()), "application/json"
            if path == "/ovirt-engine/sso/oauth/token" and method == "POST":
                return self.sso_token()
            if path == "/ovirt-engine/services/sso-logout" and method == "POST":
                form = urllib.parse.parse_qs(self.body().decode())
                engine.tokens.discard(form.get("token", [""])[0])
                return 200, "{}", "application/json"
            if not path.startswith(API):
                return 404, "not found", "text/plain"
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in engine.tokens:
                return (401, "<html><body>Unauthorized</body></html>", "text/html")
            status, body = self.api(method, path[len(API):].strip("/").split("/"),
                                    query)
            return status, body, "application/xml"

        def sso_token(self):
            form = urllib.parse.parse_qs(self.body().decode())
            user = form.get("username", [""])[0]
            if (form.get("grant_type", [""])[0] != "password"
                    or user != engine.username
                    or form.get("password", [""])[0] != engine.password):
                return 400, json.dumps({
                    "error_code": "access_denied",
                    "error": f"Cannot authenticate user '{user}': The username "
                             "or password is incorrect.."}), "application/json"
            tok = secrets.token_urlsafe(24)
            engine.tokens.add(tok)
            return 200, json.dumps({"access_token": tok, "scope": "ovirt-app-api",
                                    "exp": str(int(time.time() * 1000) + 3600000),
                                    "token_type": "Bearer"}), "application/json"

        def api(self, method, parts, query):
            e = engine
            parts = [p for p in parts if p]
            if not parts:
                return 200, Writer.write(T(types.Api, 
                    product_info=T(types.ProductInfo, 
                        name="oVirt Engine (ferry test simulator)",
                        version=T(types.Version, major=4, minor=5, build=0,
                                              revision=0, full_version="4.5.0-sim"))))
            coll, rest = parts[0], parts[1:]
            simple = {
                "disks": (e.disks, e.x_disk),
                "storagedomains": (e.sds, e.x_sd),
                "networks": (e.networks, e.x_network),
                "diskprofiles": (e.disk_profiles, e.x_disk_profile),
                "vnicprofiles": (e.profiles, e.x_profile),
                "clusters": ({e.cluster["id"]: e.cluster}, e.x_cluster),
                "hosts": ({e.host["id"]: e.host}, e.x_host),
                "datacenters": ({e.dc["id"]: e.dc}, e.x_dc),
                "imagetransfers": (e.transfers, e.x_transfer),
            }
            if coll == "imagetransfers" and method == "POST":
                if not rest:
                    return e.create_transfer(self.body())
                if len(rest) == 2 and rest[1] in ("finalize", "cancel"):
                    self.body()
                    return e.end_transfer(rest[0], rest[1] == "finalize")
            if coll in simple and method == "GET":
                table, xf = simple[coll]
                if not rest:
                    return 200, Writer.write([xf(o) for o in table.values()],
                                             root=ROOT_TAGS.get(coll, coll))
                if len(rest) == 1:
                    o = table.get(rest[0])
                    if o is None:
                        return not_found()
                    return 200, Writer.write(xf(o))
            if coll == "vms":
                return self.vms(method, rest, query)
            return not_found()

        def vms(self, method, rest, query):
            e = engine
            if not rest and method == "GET":
                vms = list(e.vms.values())
                search = query.get("search", [""])[0]
                if search.startswith("name="):
                    vms = [v for v in vms if v["name"] == search[5:]]
                return 200, Writer.write([e.x_vm(v) for v in vms], root="vms")
            vm = e.vms.get(rest[0]) if rest else None
            if vm is None:
                return not_found()
            sub = rest[1:]
            if not sub:
                if method == "GET":
                    return 200, Writer.write(e.x_vm(vm))
                if method == "DELETE":
                    e.delete_vm(vm["id"], "cancelled_system")
                    return 200, Writer.write(T(types.Action, status="complete"))
            elif sub[0] in ("shutdown", "stop", "start") and method == "POST":
                self.body()
                return e.power(vm, sub[0])
            elif sub[0] == "diskattachments" and method == "GET":
                atts = [e.x_attachment(e.disks[d], i)
                        for i, d in enumerate(vm["disk_ids"])]
                if len(sub) == 1:
                    return 200, Writer.write(atts, root="disk_attachments")
                att = next((a for a in atts if a.id == sub[1]), None)
                return (200, Writer.write(att)) if att else not_found()
            elif sub[0] == "nics" and method == "GET":
                return 200, Writer.write([e.x_nic(vm, n) for n in vm["nics"]],
                                         root="nics")
            elif sub[0] == "snapshots":
                return self.snapshots(method, vm, sub[1:])
            return not_found()

        def snapshots(self, method, vm, sub):
            e = engine
            if not sub and method == "GET":
                return 200, Writer.write([e.x_snapshot(vm, s) for s in vm["snapshots"]],
                                         root="snapshots")
            if not sub and method == "POST":
                req = Reader.read(self.body())
                s = {"id": str(uuid.uuid4()), "type": "regular",
                     "description": (req.description or "") if req else ""}
                vm["snapshots"].append(s)
                e.actions.append(f"snapshot {vm['id']} {s['id']}")
                return 201, Writer.write(e.x_snapshot(vm, s))
            s = next((s for s in vm["snapshots"] if sub and s["id"] == sub[0]), None)
            if s is None:
                return not_found()
            if method == "GET":
                return 200, Writer.write(e.x_snapshot(vm, s))
            if method == "DELETE" and s["type"] != "active":
                vm["snapshots"].remove(s)
                e.actions.append(f"remove snapshot {vm['id']} {s['id']}")
                return 200, Writer.write(T(types.Action, status="complete"))
            return not_found()

    return Handler


def not_found():
    return 404, Writer.write(T(types.Fault, reason="Operation Failed",
                                         detail="Entity not found"))


def main():
    scenario_path, d = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(scenario_path) as f:
        scenario = json.load(f)
    ca, key, cert = make_tls(d)
    imageio = Imageio(d, key, cert, ca)
    engine = Engine(scenario, d, imageio)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(engine))
    port = server.server_address[1]
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    info = {
        "url": f"https://127.0.0.1:{port}{API}",
        "engine": f"https://127.0.0.1:{port}",
        "username": engine.username,
        "password": engine.password,
        "ca_file": ca,
        "ca_pem": open(ca).read(),
        "imageio_url": f"https://127.0.0.1:{imageio.port}",
        "imageio_control_port": imageio.control_port,
        "imageio_log": imageio.log,
        "vms": {v["name"]: v["id"] for v in engine.vms.values()},
        "disks": {d["name"]: d["id"] for d in engine.disks.values()},
        "storage_domains": {s["name"]: s["id"] for s in engine.sds.values()},
        "vnic_profiles": {p["name"]: p["id"] for p in engine.profiles.values()},
        "networks": {n["name"]: n["id"] for n in engine.networks.values()},
    }
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info), flush=True)
    try:
        sys.stdin.read()
    finally:
        server.shutdown()
        imageio.stop()
        for p in engine.nbd:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
