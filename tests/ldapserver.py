"""A real OpenLDAP server (Debian's ``slapd``) on a loopback port, with a small directory.

Started from a ``slapd.conf`` of its own in a temporary folder (no system configuration is
read or changed), loaded with ``slapadd`` before it starts, stopped at the end. The directory:

    dc=tracker,dc=test
      ou=people:  zhangsan (公安部's liaison), lisi (coordinator), wangwu (no group here),
                  admin (a name a local break-glass account also has)
      ou=groups:  tracker-liaisons, tracker-coordinators (groupOfNames), dept-mps
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=tracker,dc=test"
ROOT_DN, ROOT_PASSWORD = f"cn=admin,{SUFFIX}", "root-secret"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
PASSWORDS = {"zhangsan": "Zs-directory-1", "lisi": "Ls-directory-1", "wangwu": "Ww-directory-1",
             "admin": "Directory-admin-1"}  # fmt: skip


def available() -> bool:
    return Path(SLAPD).exists() and Path(SLAPADD).exists() and (SCHEMA / "core.schema").exists()


def person(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group(name: str) -> str:
    return f"cn={name},{GROUPS}"


LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: tracker test
dc: tracker

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: {person("zhangsan")}
objectClass: inetOrgPerson
uid: zhangsan
cn: 张三
sn: 张
displayName: 张三
mail: zhangsan@mps.example
telephoneNumber: 010-66261234
userPassword: {PASSWORDS["zhangsan"]}

dn: {person("lisi")}
objectClass: inetOrgPerson
uid: lisi
cn: 李四
sn: 李
userPassword: {PASSWORDS["lisi"]}

dn: {person("wangwu")}
objectClass: inetOrgPerson
uid: wangwu
cn: 王五
sn: 王
userPassword: {PASSWORDS["wangwu"]}

dn: {person("admin")}
objectClass: inetOrgPerson
uid: admin
cn: 目录中的 admin
sn: admin
userPassword: {PASSWORDS["admin"]}

dn: {group("tracker-liaisons")}
objectClass: groupOfNames
cn: tracker-liaisons
member: {person("zhangsan")}

dn: {group("tracker-coordinators")}
objectClass: groupOfNames
cn: tracker-coordinators
member: {person("lisi")}
member: {person("admin")}

dn: {group("dept-mps")}
objectClass: groupOfNames
cn: dept-mps
member: {person("zhangsan")}
"""

GROUP_MAP = (
    f'{{"{group("tracker-liaisons")}": {{"role": "liaison"}}, '
    f'"{group("tracker-coordinators")}": {{"role": "coordinator", "department": "mca"}}, '
    f'"{group("dept-mps")}": {{"department": "mps"}}}}'
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Directory:
    """``with Directory(folder) as ldap:`` → ``ldap.url`` answers until the block ends."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> dict[str, str]:
        """The application's settings for this directory."""
        return {
            "TRACKER_LDAP_URL": self.url,
            "TRACKER_LDAP_BIND_DN": ROOT_DN,
            "TRACKER_LDAP_BIND_PASSWORD": ROOT_PASSWORD,
            "TRACKER_LDAP_USER_BASE": PEOPLE,
            "TRACKER_LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
            "TRACKER_LDAP_GROUP_BASE": GROUPS,
            "TRACKER_LDAP_GROUPS": GROUP_MAP,
        }

    def __enter__(self) -> Directory:
        database = self.folder / "db"
        database.mkdir(parents=True)
        conf = self.folder / "slapd.conf"
        conf.write_text(
            "\n".join(
                [
                    *(
                        f"include {SCHEMA / name}.schema"
                        for name in ("core", "cosine", "inetorgperson")
                    ),
                    f"modulepath {MODULES}",
                    "moduleload back_mdb",
                    f"pidfile {self.folder / 'slapd.pid'}",
                    "database mdb",
                    "maxsize 10485760",
                    f'suffix "{SUFFIX}"',
                    f'rootdn "{ROOT_DN}"',
                    f"rootpw {ROOT_PASSWORD}",
                    f"directory {database}",
                    "access to attrs=userPassword by anonymous auth by * none",
                    "access to * by * read",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        data = self.folder / "directory.ldif"
        data.write_text(LDIF, encoding="utf-8")
        subprocess.run([SLAPADD, "-f", str(conf), "-l", str(data)], check=True,
                       capture_output=True)  # fmt: skip
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(conf), "-h", f"{self.url}/", "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("slapd exited at start") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("slapd did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
