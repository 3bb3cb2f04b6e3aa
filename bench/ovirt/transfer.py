"""Start or end an image transfer with the official oVirt SDK (bench helper).

  transfer.py INFO.json start DISK_ID   -> prints "TRANSFER_ID TRANSFER_URL"
  transfer.py INFO.json end TRANSFER_ID -> finalizes it
"""
import json
import sys
import time

import ovirtsdk4 as sdk
import ovirtsdk4.types as types


def main():
    info = json.load(open(sys.argv[1]))
    conn = sdk.Connection(url=info["url"], username=info["username"],
                          password=info["password"], ca_file=info["ca_file"])
    transfers = conn.system_service().image_transfers_service()
    if sys.argv[2] == "start":
        t = transfers.add(types.ImageTransfer(
            disk=types.Disk(id=sys.argv[3]),
            direction=types.ImageTransferDirection.DOWNLOAD,
            format=types.DiskFormat.RAW, inactivity_timeout=600))
        service = transfers.image_transfer_service(t.id)
        while t.phase == types.ImageTransferPhase.INITIALIZING:
            time.sleep(0.1)
            t = service.get()
        if t.phase != types.ImageTransferPhase.TRANSFERRING:
            sys.exit(f"transfer {t.id} is {t.phase}")
        print(t.id, t.transfer_url)
    else:
        transfers.image_transfer_service(sys.argv[3]).finalize()
    conn.close()


if __name__ == "__main__":
    main()
