#!/bin/bash
# deb post-remove script of the kiosk shell (electron-builder `deb.afterRemove`): electron-builder
# 26.17.0's default after-remove.tpl (part 1, VERBATIM; checked by scripts/test/packaging) plus the
# removal of what after-install.tpl installed outside /opt (part 2). Write $VAR, not the braced form.

# ---- part 1: electron-builder default ------------------------------------------------------

# Delete the link to the binary
# update-alternatives --remove <name> <path>: 'path' must be the registered alternative binary,
# not the generic symlink — see https://man7.org/linux/man-pages/man1/update-alternatives.1.html
if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove '${executable}' '/opt/${sanitizedProductName}/${executable}'
else
    rm -f '/usr/bin/${executable}'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'

# Remove and unload apparmor profile.
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
  # Unload the profile from the running kernel before deleting the file so the
  # policy is not left enforced until the next reboot.  Mirror the chroot guard
  # used in the after-install script — live AppArmor operations are not
  # meaningful inside a chroot.
  # https://wiki.debian.org/AppArmor/HowToUse
  if apparmor_status --enabled > /dev/null 2>&1; then
    if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
    fi
  fi
  rm -f "$APPARMOR_PROFILE_DEST"
fi
# ---- part 2: kiosk appliance files ---------------------------------------------------------
# On an upgrade the new package's post-install puts them back; remove them for good only on
# remove/purge (deb) or erase (rpm: 0).
case "$1" in
  remove|purge|0)
    rm -f /usr/lib/systemd/user/kiosk-shell.service \
          /usr/lib/systemd/user/kiosk-session.target \
          /usr/lib/systemd/user/kiosk-web.service
    rm -rf /usr/libexec/kiosk-shell
    ;;
esac
