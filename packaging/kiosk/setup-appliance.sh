#!/bin/sh
# One-time (idempotent) setup of a Debian 12 machine as a certificate kiosk appliance, run as root
# AFTER installing the kiosk-shell deb. Installed as /usr/libexec/kiosk-shell/setup-appliance.
#
#   apt-get install ./kiosk-shell_<version>_amd64.deb cage greetd
#   /usr/libexec/kiosk-shell/setup-appliance
#   edit /etc/kiosk-shell/kiosk-config.json (server, printer, store name; optionally adminCode),
#   put the kiosk credential into /etc/kiosk-shell/credential (and the server's CA if private)
#   reboot
#
# What it does:
#   - creates the dedicated, password-less user `kiosk` (KIOSK_USER overrides) — a normal user
#     with a home, because the graphical session, its systemd user manager and Electron's profile
#     need one; no sudo; one extra group, dialout, for the cash unit's serial port (logind grants
#     the seat's display and input devices to the active session; the printer is reached over the
#     network with IPP)
#   - creates /etc/kiosk-shell/ (root:kiosk, 0750) with kiosk-config.json and kiosk.env from the
#     examples (0640: the configuration may hold the admin code, the credential file is secret)
#   - installs greetd's config for auto-login into the kiosk session (backup: config.toml.orig)
#     and makes greetd the display manager
# It does not enable kiosk-shell.service globally: only the kiosk session starts it.
set -eu

KIOSK_USER=${KIOSK_USER:-kiosk}
HERE=$(dirname "$(readlink -f "$0")")
# Installed copy (/usr/libexec/kiosk-shell) or the source tree (packaging/kiosk).
RESOURCES=${KIOSK_RESOURCES:-}
if [ -z "$RESOURCES" ]; then
  for candidate in "$HERE" "/opt/Certificate Kiosk/resources/kiosk"; do
    if [ -f "$candidate/kiosk.env.example" ]; then RESOURCES=$candidate; break; fi
  done
fi
[ -n "$RESOURCES" ] || { echo "setup-appliance: kiosk resources not found; set KIOSK_RESOURCES" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "setup-appliance: run as root" >&2; exit 1; }

for unit in kiosk-shell.service kiosk-session.target; do
  [ -f "/usr/lib/systemd/user/$unit" ] || { echo "setup-appliance: /usr/lib/systemd/user/$unit missing; install the kiosk-shell deb first" >&2; exit 1; }
done

# 1. The dedicated user.
if ! id "$KIOSK_USER" >/dev/null 2>&1; then
  adduser --disabled-password --gecos "Certificate kiosk" "$KIOSK_USER"
fi
# The ccTalk cash unit's serial port (/dev/ttyUSB*, /dev/ttyS*) belongs to the dialout group.
usermod -a -G dialout "$KIOSK_USER"

# 2. Settings and credential directory: readable by the kiosk user, writable by root only.
install -d -o root -g "$KIOSK_USER" -m 0750 /etc/kiosk-shell
for pair in kiosk-config.example.json:kiosk-config.json kiosk.env.example:kiosk.env; do
  if [ ! -f "/etc/kiosk-shell/${pair#*:}" ]; then
    install -o root -g "$KIOSK_USER" -m 0640 "$RESOURCES/${pair%%:*}" "/etc/kiosk-shell/${pair#*:}"
  fi
done

# 3. Auto-login into the kiosk session with greetd.
if [ -d /etc/greetd ]; then
  if [ -f /etc/greetd/config.toml ] && [ ! -f /etc/greetd/config.toml.orig ]; then
    cp -p /etc/greetd/config.toml /etc/greetd/config.toml.orig
  fi
  sed "s/^user = \"kiosk\"/user = \"$KIOSK_USER\"/" "$RESOURCES/session/greetd-config.toml" >/etc/greetd/config.toml
  chmod 0644 /etc/greetd/config.toml
  # greetd becomes the display manager (--force takes over the display-manager.service alias
  # from gdm3/lightdm if one was installed).
  systemctl enable --force greetd.service
  systemctl set-default graphical.target
else
  echo "setup-appliance: greetd is not installed; configure auto-login of '$KIOSK_USER' into /usr/libexec/kiosk-shell/kiosk-session with your display manager" >&2
fi

echo "kiosk appliance prepared: edit /etc/kiosk-shell/kiosk-config.json, add /etc/kiosk-shell/credential (root:$KIOSK_USER 0640), then reboot"
