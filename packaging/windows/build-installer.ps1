# Build dist\Outpost-<version>-windows-x64-setup.exe (Inno Setup) and a portable zip
# from dist\outpost. Run `pyinstaller --noconfirm --clean build.spec` first.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build-installer.ps1 [-Python .venv\Scripts\python.exe]
param(
    [string]$Python = ".venv\Scripts\python.exe",
    [string]$Iscc = ""
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

if (-not (Test-Path "dist\outpost\outpost.exe")) { throw "dist\outpost\outpost.exe is missing: run pyinstaller build.spec first" }
$version = & $Python packaging\metadata.py version
$numeric = & $Python packaging\metadata.py version_windows
if (-not $Iscc) {
    $found = Get-Command iscc.exe -ErrorAction SilentlyContinue
    $Iscc = if ($found) { $found.Source } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
}
if (-not (Test-Path $Iscc)) { throw "Inno Setup 6 not found (install it: winget install JRSoftware.InnoSetup, or choco install innosetup)" }

& $Iscc /Q "/DAppVersion=$version" "/DAppVersionNumeric=$numeric" packaging\windows\outpost.iss
if ($LASTEXITCODE -ne 0) { throw "ISCC failed with exit code $LASTEXITCODE" }

$portable = "dist\Outpost-$version-windows-x64-portable.zip"
if (Test-Path $portable) { Remove-Item $portable }
Compress-Archive -Path "dist\outpost" -DestinationPath $portable
Get-Item "dist\Outpost-$version-windows-x64-setup.exe", $portable | ForEach-Object {
    "{0}  {1:N1} MB" -f $_.Name, ($_.Length / 1MB)
}
