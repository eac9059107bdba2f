#!/usr/bin/env bash
# One room per CRM and per PBX protocol (decision 0006): code outside a CRM's folders never names a CRM, and code
# outside a protocol's folders never names a PBX protocol. Comments may. The registries are the one
# list each layer keeps. Exits 1 and prints the offending lines.
set -euo pipefail
cd "$(dirname "$0")/.."

crm='amocrm|AmoCRM|amoCRM|AMOCRM|Amo[A-Z]|\bamo\b|[Bb]itrix|BITRIX|B24|\bb24|[Mm]egaplan|MEGAPLAN|[Mm]oy[Ss]klad|MOYSKLAD'
rooms='/(AmoCRM|Bitrix24|Megaplan|MoySklad)/'
registries='^Sources/(SwitchboardCRM/Registry|SwitchboardApp/Registry|switchboard/CLIRegistry)\.swift:'
status=0

# Code lines only: drop `//` comments and the words that merely contain a CRM's letters.
code() { grep -rnE "$1" "${@:2}" --include='*.swift' | grep -vE '^[^:]+:[0-9]+:\s*//' || true; }

found=$(code "$crm" Sources | grep -vE "$rooms" | grep -vE "$registries" || true)
if [ -n "$found" ]; then
  echo "A CRM is named outside its folders (move the code into Sources/<target>/<CRM>/ or list it in a registry):"
  echo "$found"
  status=1
fi

found=$(code "[Ii][Tt]oo[Ll]abs|ITOOLABS" Sources/SwitchboardCore Sources/SwitchboardApp Sources/SwitchboardCRM Sources/SwitchboardDelivery \
          Sources/SwitchboardStorage Sources/SwitchboardOutbound Sources/SwitchboardPBX Sources/SwitchboardSimulator \
          Sources/SwitchboardSandbox Sources/switchboard \
        | grep -vE '/(ITooLabs|Native)/' \
        | grep -vE '^Sources/(SwitchboardPBX/Seam/Registry|SwitchboardSimulator/Registry|switchboard/CLIRegistry)\.swift:' || true)
if [ -n "$found" ]; then
  echo "A PBX protocol is named outside its folder (move the code into Sources/<target>/<protocol>/ or list it in a registry):"
  echo "$found"
  status=1
fi

[ $status -eq 0 ] && echo "rooms: every CRM and PBX protocol stays in its own folders"
exit $status
